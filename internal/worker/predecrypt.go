package worker

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
)

// minPredecrypt is the fewest encrypted commands in a block worth opening
// ahead in parallel.
const minPredecrypt = 8

// opened is an encrypted command payload decrypted ahead of its turn, with
// the contract key that opened it.
type opened struct {
	ek    *cipher.EcdhKey
	plain []byte
	err   error
}

// predecrypt opens the encrypted commands of b ahead of the in-order
// execution, on every CPU: the ECDH agreement is most of a command's cost
// beyond the contract call. Decryption is a pure function of the contract
// key and the payload, so a command's outcome is the same whichever way
// it was opened; command takes the result from c.opened only when its
// contract key is the one used here, and decrypts in its turn otherwise (a
// cluster key or contract that appeared within the block, a command seen
// only on replay). It changes no state of the core but the key cache.
func (c *Core) predecrypt(b *Block) {
	r, ok := c.routes[msg.TopicPhatCommand]
	if !ok || c.opts.Contracts == nil {
		return
	}
	type job struct {
		payload string
		ek      *cipher.EcdhKey
		enc     *cipher.EncryptedData
	}
	var jobs []job
	for _, m := range b.Messages {
		if string(m.Topic) != msg.TopicPhatCommand || (r.origin != nil && !bytes.Equal(r.origin, m.Origin)) {
			continue
		}
		var p msg.Command
		if scale.Decode(m.Payload, &p) != nil {
			continue
		}
		k, cs := c.clusterKeys[p.Cluster], c.clusters[p.Cluster]
		if k == nil || cs == nil || cs.contracts[p.Contract] == nil {
			continue
		}
		payload, err := phatwire.DecodeCommandPayload(p.Payload)
		if err != nil || payload.Encrypted == nil {
			continue
		}
		jobs = append(jobs, job{payload: string(p.Payload), ek: k.contractEcdh(p.Contract), enc: payload.Encrypted})
	}
	if len(jobs) < minPredecrypt {
		return
	}
	out := make([]opened, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				pt, err := jobs[i].enc.Decrypt(jobs[i].ek)
				out[i] = opened{ek: jobs[i].ek, plain: pt, err: err}
			}
		}()
	}
	wg.Wait()
	c.opened = make(map[string]opened, len(jobs))
	for i, j := range jobs {
		c.opened[j.payload] = out[i]
	}
}

// decryptCommand opens an encrypted command payload with the contract key
// ek: from c.opened when predecrypt opened it with the same key.
func (c *Core) decryptCommand(payload []byte, enc *cipher.EncryptedData, ek *cipher.EcdhKey) ([]byte, error) {
	if o, ok := c.opened[string(payload)]; ok && o.ek == ek {
		return o.plain, o.err
	}
	return enc.Decrypt(ek)
}
