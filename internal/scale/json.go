package scale

import (
	"encoding/json"
	"fmt"
)

// MarshalJSON encodes x as a decimal string, so that JSON readers with 53-bit
// numbers never lose precision.
func (x U128) MarshalJSON() ([]byte, error) { return json.Marshal(x.String()) }

// UnmarshalJSON accepts a decimal string or a JSON number written without
// fraction or exponent.
func (x *U128) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := ParseU128(s)
	if err != nil {
		return fmt.Errorf("u128: %w", err)
	}
	*x = v
	return nil
}
