package node

import (
	"fmt"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
)

// readConfigFile parses a CometBFT config.toml on top of the defaults, as
// CometBFT's own commands do.
func readConfigFile(path string) (*cmtcfg.Config, error) {
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return c, nil
}
