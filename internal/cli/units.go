package cli

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state"
)

// TokenSymbol is the name of the chain's token in human output (the chain
// itself knows only base units; state.Decimals of them make one token).
const TokenSymbol = "CELL"

// formatTokens writes an amount of base units (a decimal string) in tokens:
// "1500000000000" is "1.5 CELL". A value that is not a decimal integer is
// returned as it is.
func formatTokens(baseUnits string) string {
	v, ok := new(big.Int).SetString(baseUnits, 10)
	if !ok || v.Sign() < 0 {
		return baseUnits
	}
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(state.Decimals), nil)
	whole, frac := new(big.Int).QuoRem(v, unit, new(big.Int))
	s := whole.String()
	if frac.Sign() != 0 {
		f := fmt.Sprintf("%0*s", state.Decimals, frac.String())
		s += "." + strings.TrimRight(f, "0")
	}
	return s + " " + TokenSymbol
}

// display holds the output switches shared by commands that print
// accounts and amounts: --hex (accounts as 0x public keys instead of SS58)
// and --units (amounts also in tokens).
type display struct {
	hex    bool
	units  bool
	prefix uint16
}

// addDisplayFlags adds --hex and --units to cmd.
func addDisplayFlags(cmd *cobra.Command) *display {
	d := &display{prefix: keys.DefaultSS58Prefix}
	cmd.Flags().BoolVar(&d.hex, "hex", false, "show accounts as 0x public keys instead of SS58 addresses")
	cmd.Flags().BoolVar(&d.units, "units", false, "also show amounts in "+TokenSymbol+" (1 "+TokenSymbol+" = 10^12 base units)")
	return d
}

// account shows a 0x public key or SS58 address as the display asks.
func (d *display) account(s string) string {
	pk, err := keys.ParseAccount(s)
	if err != nil {
		return s
	}
	if d.hex {
		return pk.Hex()
	}
	return keys.EncodeSS58(pk, d.prefix)
}

// amountText is an amount for text output: base units, and with --units
// the tokens too.
func (d *display) amountText(baseUnits string) string {
	if d.units {
		return baseUnits + " (" + formatTokens(baseUnits) + ")"
	}
	return baseUnits
}

// tokens is the token form of an amount for JSON output with --units
// (nil without it, so that the field is left out).
func (d *display) tokens(baseUnits string) *string {
	if !d.units {
		return nil
	}
	t := strings.TrimSuffix(formatTokens(baseUnits), " "+TokenSymbol)
	return &t
}
