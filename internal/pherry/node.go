package pherry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/state"
)

// Source is what pherry reads from a node to feed a pRuntime. Answers are
// untrusted (the pRuntime verifies everything); implementations only check
// that they are well-formed and are what was asked for. The node's
// implementation is NodeSource; tests use fakes.
type Source interface {
	// Height returns the last committed height.
	Height(ctx context.Context) (int64, error)
	// GenesisDoc returns CometBFT's genesis document.
	GenesisDoc(ctx context.Context) (*cmttypes.GenesisDoc, error)
	// Headers returns the headers of heights min..max, in height order,
	// exactly those (1 ≤ min ≤ max).
	Headers(ctx context.Context, min, max int64) ([]*cmttypes.Header, error)
	// Commit returns the commit of height h.
	Commit(ctx context.Context, h int64) (*cmttypes.Commit, error)
	// Validators returns the validator set that signs height h, in the
	// set's order.
	Validators(ctx context.Context, h int64) ([]*cmttypes.Validator, error)
	// Records returns the block records of heights from..to in order,
	// starting at from; it may return fewer than asked, but at least one.
	Records(ctx context.Context, from, to int64) ([]*state.BlockRecord, error)
}

// Limits of NodeSource's requests.
const (
	// headersPerCall is what CometBFT's /blockchain answers at most.
	headersPerCall = 20
	// callsPerRequest is how many /blockchain calls go into one JSON-RPC
	// batch request (CometBFT's default rpc.max_request_batch_size is 10).
	callsPerRequest = 10
	// parallelRequests bounds the concurrent header requests.
	parallelRequests = 4
	// validatorsPerPage is the largest page /validators serves.
	validatorsPerPage = 100
	// maxValidatorPages bounds the pages read for one set (10,000 validators).
	maxValidatorPages = 100
)

// NodeSource reads from a node over CometBFT's RPC and Cella's ABCI
// queries.
type NodeSource struct {
	c *client.Client

	mu          sync.Mutex
	noBatchRPCs bool // the node refused JSON-RPC batches; send single calls
}

// NewNodeSource returns a Source reading from the node behind c.
func NewNodeSource(c *client.Client) *NodeSource { return &NodeSource{c: c} }

// Height implements Source with the /chain query: the application's last
// committed height. (CometBFT stores a block before the application commits
// it, so /status may name a height whose record is not there yet.)
func (s *NodeSource) Height(ctx context.Context) (int64, error) {
	ci, err := s.c.ChainInfo(ctx)
	if err != nil {
		return 0, err
	}
	if ci.Height < 0 {
		return 0, fmt.Errorf("node: chain info says height %d", ci.Height)
	}
	return ci.Height, nil
}

// GenesisDoc implements Source with /genesis, or /genesis_chunked when the
// node finds the document too large for one answer.
func (s *NodeSource) GenesisDoc(ctx context.Context) (*cmttypes.GenesisDoc, error) {
	res, err := s.c.RPC().Genesis(ctx)
	if err == nil {
		if res == nil || res.Genesis == nil {
			return nil, errors.New("node: /genesis answered no document")
		}
		return res.Genesis, nil
	}
	if !strings.Contains(err.Error(), "genesis_chunked") {
		return nil, fmt.Errorf("node: /genesis: %w", err)
	}
	var raw []byte
	for i := 0; ; i++ {
		ch, err := s.c.RPC().GenesisChunked(ctx, uint(i))
		if err != nil {
			return nil, fmt.Errorf("node: /genesis_chunked %d: %w", i, err)
		}
		b, err := base64.StdEncoding.DecodeString(ch.Data)
		if err != nil {
			return nil, fmt.Errorf("node: /genesis_chunked %d: %w", i, err)
		}
		raw = append(raw, b...)
		if ch.TotalChunks <= 0 || i+1 >= ch.TotalChunks || i+1 >= 1<<16 {
			break
		}
	}
	doc, err := cmttypes.GenesisDocFromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("node: chunked genesis: %w", err)
	}
	return doc, nil
}

// Headers implements Source with /blockchain: calls of 20 headers, grouped
// in JSON-RPC batch requests, several requests at a time.
func (s *NodeSource) Headers(ctx context.Context, min, max int64) ([]*cmttypes.Header, error) {
	if min < 1 || max < min {
		return nil, fmt.Errorf("pherry: header range %d..%d", min, max)
	}
	n := max - min + 1
	out := make([]*cmttypes.Header, n)
	span := int64(headersPerCall * callsPerRequest)
	type chunk struct{ lo, hi int64 }
	var chunks []chunk
	for lo := min; lo <= max; lo += span {
		chunks = append(chunks, chunk{lo, minInt(lo+span-1, max)})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(chunks))
	sem := make(chan struct{}, parallelRequests)
	var wg sync.WaitGroup
	for _, ch := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
			defer func() { <-sem }()
			if err := s.headerChunk(ctx, ch.lo, ch.hi, out[ch.lo-min:ch.hi-min+1]); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, err
	}
	return out, nil
}

// headerChunk fills dst with the headers lo..hi (at most callsPerRequest
// calls), as one JSON-RPC batch request, or as single calls when the node
// refuses batches.
func (s *NodeSource) headerChunk(ctx context.Context, lo, hi int64, dst []*cmttypes.Header) error {
	s.mu.Lock()
	single := s.noBatchRPCs
	s.mu.Unlock()
	if !single && hi-lo+1 > headersPerCall {
		err := s.headerBatch(ctx, lo, hi, dst)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if !strings.Contains(err.Error(), "batch") {
			return err
		}
		s.mu.Lock()
		s.noBatchRPCs = true
		s.mu.Unlock()
	}
	for a := lo; a <= hi; a += headersPerCall {
		b := minInt(a+headersPerCall-1, hi)
		res, err := s.c.RPC().BlockchainInfo(ctx, a, b)
		if err != nil {
			return fmt.Errorf("node: /blockchain %d..%d: %w", a, b, err)
		}
		if err := fillHeaders(res, a, b, dst[a-lo:b-lo+1]); err != nil {
			return err
		}
	}
	return nil
}

func (s *NodeSource) headerBatch(ctx context.Context, lo, hi int64, dst []*cmttypes.Header) error {
	batch := s.c.RPC().NewBatch()
	type call struct {
		a, b int64
		res  *coretypes.ResultBlockchainInfo
	}
	var calls []call
	for a := lo; a <= hi; a += headersPerCall {
		b := minInt(a+headersPerCall-1, hi)
		res, err := batch.BlockchainInfo(ctx, a, b)
		if err != nil {
			return fmt.Errorf("node: /blockchain %d..%d: %w", a, b, err)
		}
		calls = append(calls, call{a, b, res})
	}
	if _, err := batch.Send(ctx); err != nil {
		return fmt.Errorf("node: /blockchain batch %d..%d: %w", lo, hi, err)
	}
	for _, c := range calls {
		if err := fillHeaders(c.res, c.a, c.b, dst[c.a-lo:c.b-lo+1]); err != nil {
			return err
		}
	}
	return nil
}

// fillHeaders checks that res holds exactly the headers a..b and stores
// them in height order (CometBFT answers from the highest down).
func fillHeaders(res *coretypes.ResultBlockchainInfo, a, b int64, dst []*cmttypes.Header) error {
	if res == nil || int64(len(res.BlockMetas)) != b-a+1 {
		got := 0
		if res != nil {
			got = len(res.BlockMetas)
		}
		return fmt.Errorf("node: /blockchain %d..%d answered %d headers", a, b, got)
	}
	for _, m := range res.BlockMetas {
		if m == nil || m.Header.Height < a || m.Header.Height > b {
			return fmt.Errorf("node: /blockchain %d..%d answered a header out of range", a, b)
		}
		i := m.Header.Height - a
		if dst[i] != nil {
			return fmt.Errorf("node: /blockchain %d..%d answered height %d twice", a, b, m.Header.Height)
		}
		h := m.Header
		dst[i] = &h
	}
	return nil
}

// Commit implements Source with /commit.
func (s *NodeSource) Commit(ctx context.Context, h int64) (*cmttypes.Commit, error) {
	res, err := s.c.RPC().Commit(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("node: /commit %d: %w", h, err)
	}
	if res == nil || res.Commit == nil || res.Commit.Height != h {
		return nil, fmt.Errorf("node: /commit %d answered no commit of that height", h)
	}
	return res.Commit, nil
}

// Validators implements Source with /validators, page by page.
func (s *NodeSource) Validators(ctx context.Context, h int64) ([]*cmttypes.Validator, error) {
	var out []*cmttypes.Validator
	perPage := validatorsPerPage
	for page := 1; page <= maxValidatorPages; page++ {
		p := page
		res, err := s.c.RPC().Validators(ctx, &h, &p, &perPage)
		if err != nil {
			return nil, fmt.Errorf("node: /validators %d page %d: %w", h, page, err)
		}
		if res == nil || res.BlockHeight != h || res.Total <= 0 || len(res.Validators) == 0 {
			return nil, fmt.Errorf("node: /validators %d page %d: empty or wrong answer", h, page)
		}
		out = append(out, res.Validators...)
		if len(out) >= res.Total {
			if len(out) > res.Total {
				return nil, fmt.Errorf("node: /validators %d: %d validators, total says %d", h, len(out), res.Total)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("node: /validators %d: more than %d validators", h, maxValidatorPages*validatorsPerPage)
}

// Records implements Source with the /blocks query.
func (s *NodeSource) Records(ctx context.Context, from, to int64) ([]*state.BlockRecord, error) {
	if from < 0 || to < from {
		return nil, fmt.Errorf("pherry: record range %d..%d", from, to)
	}
	recs, err := s.c.Blocks(ctx, uint64(from), uint64(to))
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("node: /blocks %d..%d answered no record", from, to)
	}
	return recs, nil
}

func minInt(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
