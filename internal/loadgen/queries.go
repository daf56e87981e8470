package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
)

// QueryConfig says what query load to make: signed, encrypted contract
// queries (Phala's ContractQuery over pRPC) from Clients concurrent clients.
type QueryConfig struct {
	// WorkerURL is the worker's public API (http://host:port).
	WorkerURL string
	// WorkerEcdh is the worker's registered ECDH key.
	WorkerEcdh keys.PublicKey
	// Contract is the contract queried and Input the message (selector ‖
	// SCALE arguments).
	Contract [32]byte
	Input    []byte
	// Account signs every client's certificate (the query's origin).
	Account *keys.Pair
	// Clients is the number of concurrent clients; each issues ONE
	// certificate for its ephemeral key and one ECDH key, and reuses them
	// for all its queries (as an @phala/sdk session does); every query has
	// a fresh nonce and IV and its own signature.
	Clients int
	// Duration is how long to query.
	Duration time.Duration
	// Rate, when positive, paces the clients to Rate queries per second in
	// all (an open schedule: a late query does not shift the next).
	Rate float64
	// Check, when set, is called with each answer's output; an error
	// counts the query as failed.
	Check func(output []byte) error
}

// QueryResult is what a query run measured.
type QueryResult struct {
	Clients int              `json:"clients"`
	Rate    float64          `json:"targetRate,omitempty"`
	Seconds float64          `json:"seconds"`
	Sent    int64            `json:"sent"`
	OK      int64            `json:"ok"`
	Failed  int64            `json:"failed"`
	QPS     float64          `json:"queriesPerSecond"`
	P50ms   float64          `json:"p50Ms"`
	P90ms   float64          `json:"p90Ms"`
	P99ms   float64          `json:"p99Ms"`
	MaxMs   float64          `json:"maxMs"`
	Errors  map[string]int64 `json:"errors,omitempty"`
	// GeneratorCores is the cores this process kept busy on average (the
	// load generator shares the machine with the worker).
	GeneratorCores float64 `json:"generatorCores"`
}

// maxQueryAnswer bounds an answer read from the worker.
const maxQueryAnswer = 4 << 20

type queryClient struct {
	cfg    *QueryConfig
	http   *http.Client
	url    string
	cert   *phatwire.Certificate
	signer *keys.Pair
	ecdh   keys.PublicKey
	shared [cipher.SharedKeySize]byte
}

func newQueryClient(cfg *QueryConfig, hc *http.Client) (*queryClient, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	signer := keys.FromSeed(seed)
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	ecdh := cipher.EcdhKeyFromSeed(seed)
	clear(seed[:])
	cert, err := phatwire.IssueCertificate(cfg.Account, signer.Public(), 0x7fffffff, phatwire.Sr25519)
	if err != nil {
		return nil, err
	}
	shared, err := ecdh.Agree(cfg.WorkerEcdh)
	if err != nil {
		return nil, fmt.Errorf("worker ECDH key: %w", err)
	}
	return &queryClient{cfg: cfg, http: hc, url: strings.TrimRight(cfg.WorkerURL, "/") + "/prpc/PhactoryAPI.ContractQuery",
		cert: cert, signer: signer, ecdh: ecdh.Public(), shared: shared}, nil
}

// one sends one query and checks its answer.
func (c *queryClient) one(ctx context.Context) error {
	q := &phatwire.ContractQuery{Head: phatwire.ContractQueryHead{ID: c.cfg.Contract},
		Data: phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{Payload: c.cfg.Input}}}
	if _, err := rand.Read(q.Head.Nonce[:]); err != nil {
		return err
	}
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		return err
	}
	// The client's agreement with the worker is computed once per client:
	// the envelope is sealed with the cached shared key.
	env := &cipher.EncryptedData{IV: iv, Pubkey: c.ecdh, Data: cipher.Seal(c.shared, iv, q.Encode())}
	b := env.Encode()
	body, err := proto.Marshal(&prpcpb.ContractQueryRequest{EncodedEncryptedData: b,
		Signature: prpcpb.FromSignature(phatwire.SignQuery(c.cert, c.signer, b))})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(res.Body, maxQueryAnswer))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", res.StatusCode)
	}
	out := new(prpcpb.ContractQueryResponse)
	if err := proto.Unmarshal(ans, out); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	renv, err := cipher.DecodeEncryptedData(out.GetEncodedEncryptedData())
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	plain, err := cipher.Open(c.shared, renv.IV, renv.Data)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	resp, err := phatwire.DecodeContractQueryResponse(plain)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if resp.Nonce != q.Head.Nonce {
		return errors.New("answer: nonce mismatch")
	}
	if resp.Err != nil {
		return fmt.Errorf("query error: %v", resp.Err)
	}
	r, err := phatwire.DecodeContractExecResult(resp.Payload)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if r.Err != nil {
		return fmt.Errorf("dispatch error: %v", r.Err)
	}
	if c.cfg.Check != nil {
		return c.cfg.Check(r.Result.Data)
	}
	return nil
}

// RunQueries runs cfg's query load and measures throughput and latency.
func RunQueries(ctx context.Context, cfg QueryConfig) (*QueryResult, error) {
	if cfg.Clients < 1 || cfg.Duration <= 0 || cfg.Account == nil {
		return nil, errors.New("loadgen: queries need clients ≥ 1, a positive duration and an account")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = cfg.Clients + 8
	tr.MaxIdleConnsPerHost = cfg.Clients + 8
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	clients := make([]*queryClient, cfg.Clients)
	for i := range clients {
		c, err := newQueryClient(&cfg, hc)
		if err != nil {
			return nil, err
		}
		clients[i] = c
	}
	// One query first: a wrong contract or worker fails fast.
	if err := clients[0].one(ctx); err != nil {
		return nil, fmt.Errorf("first query: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	type tally struct {
		lat    []time.Duration
		failed int64
		errs   map[string]int64
	}
	tallies := make([]tally, cfg.Clients)
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(cfg.Clients) / cfg.Rate)
	}
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[i]
			t.errs = map[string]int64{}
			// Paced clients start spread over one interval.
			next := start
			if interval > 0 {
				next = start.Add(interval * time.Duration(i) / time.Duration(cfg.Clients))
			}
			for ctx.Err() == nil {
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(d):
						}
					}
					next = next.Add(interval)
				}
				t0 := time.Now()
				err := c.one(ctx)
				if ctx.Err() != nil {
					return // cut off by the end of the run: not counted
				}
				if err != nil {
					t.failed++
					t.errs[shortErr(err)]++
					continue
				}
				t.lat = append(t.lat, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	res := &QueryResult{Clients: cfg.Clients, Rate: cfg.Rate, Seconds: elapsed.Seconds(), Errors: map[string]int64{}}
	var all []time.Duration
	for _, t := range tallies {
		all = append(all, t.lat...)
		res.Failed += t.failed
		for k, v := range t.errs {
			res.Errors[k] += v
		}
	}
	res.OK = int64(len(all))
	res.Sent = res.OK + res.Failed
	res.QPS = float64(res.OK) / elapsed.Seconds()
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	res.P50ms, res.P90ms, res.P99ms = ms(quantile(all, 0.50)), ms(quantile(all, 0.90)), ms(quantile(all, 0.99))
	if len(all) > 0 {
		res.MaxMs = ms(all[len(all)-1])
	}
	res.GeneratorCores = cpu.Seconds() / elapsed.Seconds()
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	return res, nil
}

// quantile returns the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// CryptoFloor is the measured cost of the cryptography every query needs
// on the worker: one sr25519 verification (the query's signature; the
// certificate is verified once and cached), one ECDH agreement, AES-GCM
// open of the query and seal of the answer.
type CryptoFloor struct {
	// PerQuery is the time of one round on one core.
	PerQueryMicros float64 `json:"perQueryMicros"`
	Rounds         int     `json:"rounds"`
	// Cores is GOMAXPROCS; CeilingQPS = Cores / PerQuery, the query rate
	// the worker's cryptography alone would allow with every core on it.
	Cores      int     `json:"cores"`
	CeilingQPS float64 `json:"ceilingQps"`
}

// MeasureCryptoFloor runs the per-query cryptography on one goroutine for
// about d and returns its cost.
func MeasureCryptoFloor(d time.Duration, input []byte) (*CryptoFloor, error) {
	worker := cipher.EcdhKeyFromSeed([32]byte{1})
	client := cipher.EcdhKeyFromSeed([32]byte{2})
	signer := keys.FromSeed([32]byte{3})
	q := (&phatwire.ContractQuery{Data: phatwire.Query{Kind: phatwire.QueryInkMessage,
		Message: phatwire.InkMessageQuery{Payload: input}}}).Encode()
	env, err := cipher.Encrypt(client, worker.Public(), cipher.IV{1}, q)
	if err != nil {
		return nil, err
	}
	msg := env.Encode()
	sig := signer.Sign(msg)
	answer := (&phatwire.ContractQueryResponse{Payload: (&phatwire.ContractExecResult{}).Encode()}).Encode()
	round := func() error {
		if !keys.Verify(signer.Public(), msg, sig) {
			return errors.New("verify failed")
		}
		k, err := worker.Agree(client.Public())
		if err != nil {
			return err
		}
		if _, err := cipher.Open(k, env.IV, env.Data); err != nil {
			return err
		}
		_ = cipher.Seal(k, cipher.IV{2}, answer)
		return nil
	}
	if err := round(); err != nil { // warm up
		return nil, err
	}
	start := time.Now()
	n := 0
	for time.Since(start) < d || n < 10 {
		if err := round(); err != nil {
			return nil, err
		}
		n++
	}
	per := time.Since(start) / time.Duration(n)
	cores := runtime.GOMAXPROCS(0)
	return &CryptoFloor{PerQueryMicros: float64(per.Nanoseconds()) / 1000, Rounds: n, Cores: cores,
		CeilingQPS: float64(cores) / per.Seconds()}, nil
}
