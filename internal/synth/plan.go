package synth

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state"
)

// PowerChange is a validators.set_power call carried by the block at
// height At; it takes effect at At+2. A change whose At is not among the
// heights built (0, say) never happens.
type PowerChange struct {
	At        int64
	Validator *Validator
	Power     uint64
}

// Plan says what the blocks that Build adds carry.
type Plan struct {
	// Txs, when not nil, gives the transactions of height h; they come
	// before the height's power changes in the block.
	Txs func(h int64) ([][]byte, error)
	// Admin signs the power changes (a funded dev account). It is required
	// when Changes is not empty.
	Admin *keys.Pair
	// Changes are the validator power changes, in the order a block carries
	// them when several share a height.
	Changes []PowerChange
}

// ErrTxFailed means a transaction of a planned block was not executed with
// state.CodeOK.
var ErrTxFailed = errors.New("synth: planned transaction failed")

// Build adds n blocks as p plans them and fails, with ErrTxFailed, when a
// transaction of a block is not executed with state.CodeOK: tests that
// script validator changes want each of them applied.
func (c *Chain) Build(n int, p Plan) error {
	if len(p.Changes) > 0 && p.Admin == nil {
		return errors.New("synth: power changes without an admin")
	}
	for i := 0; i < n; i++ {
		h := c.Height() + 1
		var txs [][]byte
		if p.Txs != nil {
			var err error
			if txs, err = p.Txs(h); err != nil {
				return fmt.Errorf("synth: transactions of height %d: %w", h, err)
			}
		}
		for _, ch := range p.Changes {
			if ch.At != h {
				continue
			}
			tx, err := c.SetPower(p.Admin, ch.Validator, ch.Power)
			if err != nil {
				return fmt.Errorf("synth: set_power at height %d: %w", h, err)
			}
			txs = append(txs, tx)
		}
		b, err := c.AddBlock(txs...)
		if err != nil {
			return err
		}
		for j, r := range b.Results {
			if r.Code != state.CodeOK {
				return fmt.Errorf("%w: height %d tx %d: code %d %s", ErrTxFailed, h, j, r.Code, r.Log)
			}
		}
	}
	return nil
}
