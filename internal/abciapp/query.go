package abciapp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
)

// Query answers the paths above against committed state.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	a.mu.Lock()
	last, version := a.last, a.version
	a.mu.Unlock()
	res := &abci.ResponseQuery{Height: last.Height}
	fail := func(code uint32, format string, args ...any) (*abci.ResponseQuery, error) {
		res.Code = code
		res.Log = fmt.Sprintf(format, args...)
		return res, nil
	}
	if req.Height != 0 && req.Height != last.Height && req.Path != chainapi.PathBlocks {
		return fail(chainapi.QueryBadInput, "only the latest height (%d) can be queried", last.Height)
	}
	switch req.Path {
	case chainapi.PathAccount:
		if len(req.Data) != 32 {
			return fail(chainapi.QueryBadInput, "account query needs a 32-byte account id, got %d bytes", len(req.Data))
		}
		var id keys.PublicKey
		copy(id[:], req.Data)
		acc, err := state.GetAccount(a.db, id)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		res.Value = mustJSON(chainapi.AccountInfo{Address: keys.EncodeSS58(id, a.genesis.App.Params.SS58Prefix), Nonce: acc.Nonce, Free: acc.Free.String()})
	case chainapi.PathChain:
		gh := a.m.GenesisHash()
		params, err := state.GetParams(a.db) // governance may have changed the genesis's
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		res.Value = mustJSON(chainapi.ChainInfo{
			ChainID:     a.genesis.ChainID,
			GenesisHash: fmt.Sprintf("0x%x", gh),
			AppVersion:  version,
			Height:      last.Height,
			AppHash:     fmt.Sprintf("0x%x", last.AppHash),
			SS58Prefix:  a.genesis.App.Params.SS58Prefix,
			Dev:         a.genesis.App.Dev,
			Decimals:    state.Decimals,
			Params:      chainapi.ParamsFrom(params),
		})
	case chainapi.PathValidators:
		vs, err := state.GetValidators(a.db)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		out := make([]chainapi.ValidatorInfo, len(vs))
		for i, v := range vs {
			out[i] = chainapi.ValidatorInfo{PubKey: fmt.Sprintf("0x%x", v.PubKey), Power: v.Power}
		}
		res.Value = mustJSON(out)
	case chainapi.PathBlocks:
		var q chainapi.BlocksRequest
		if err := scale.Decode(req.Data, &q); err != nil {
			return fail(chainapi.QueryBadInput, "blocks query needs SCALE (from u64, to u64): %v", err)
		}
		from, to := q.From, q.To
		if from > to {
			return fail(chainapi.QueryBadInput, "blocks query: from %d > to %d", from, to)
		}
		if to > uint64(last.Height) {
			to = uint64(last.Height)
		}
		if from > to {
			return fail(chainapi.QueryNotFound, "blocks query: height %d is not committed yet (last %d)", from, last.Height)
		}
		var w scale.Writer
		var body scale.Writer
		n := 0
		for h := from; h <= to && n < chainapi.MaxBlocksPerQuery; h++ {
			rec, err := a.db.Block(int64(h))
			if err != nil {
				return fail(chainapi.QueryNotFound, "%v", err)
			}
			before := body.Len()
			rec.EncodeSCALE(&body)
			if n > 0 && body.Len() > chainapi.MaxBlocksQueryBytes {
				body = truncate(body, before)
				break
			}
			n++
		}
		w.Compact(uint64(n))
		w.Raw(body.Bytes())
		res.Value = w.Bytes()
	case chainapi.PathWorkers:
		var recs []msg.WorkerRecord
		switch len(req.Data) {
		case 0:
			var err error
			if recs, err = registry.ListWorkers(a.db); err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
		case 32:
			rec, ok, err := registry.GetWorker(a.db, keys.PublicKey(req.Data))
			if err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
			if !ok {
				return fail(chainapi.QueryNotFound, "no worker with identity key 0x%x", req.Data)
			}
			recs = []msg.WorkerRecord{rec}
		default:
			return fail(chainapi.QueryBadInput, "workers query takes nothing or a 32-byte identity key, got %d bytes", len(req.Data))
		}
		live, err := registry.GetLiveness(a.db)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		member, err := clusterMembership(a.db)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		out := make([]chainapi.WorkerInfo, len(recs))
		for i := range recs {
			out[i] = chainapi.WorkerInfoFrom(&recs[i], a.genesis.App.Params.SS58Prefix)
			ep, err := registry.GetEndpoint(a.db, recs[i].Info.IdentityPublicKey)
			if err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
			out[i].Endpoint = ep
			lv, err := registry.GetWorkerLiveness(a.db, &recs[i])
			if err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
			out[i].LastSeenHeight, out[i].LastHeartbeatHeight = lv.LastSeen, lv.LastHeartbeat
			out[i].Deregistered, out[i].DeregisteredHeight = lv.Deregistered, lv.DeregisteredAt
			out[i].StaleAfterBlocks = live.StaleAfter()
			out[i].Clusters = member[recs[i].Info.IdentityPublicKey]
			out[i].Stale = live.Stale(lv.LastSeen, uint64(max(last.Height, 0)))
		}
		res.Value = mustJSON(out)
	case chainapi.PathMqSequence:
		if _, err := msg.ParseOrigin(req.Data); err != nil {
			return fail(chainapi.QueryBadInput, "mq sequence query needs a SCALE message origin: %v", err)
		}
		next, err := mq.NextSequence(a.db, req.Data)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		res.Value = mustJSON(chainapi.MqSequence{Origin: fmt.Sprintf("0x%x", req.Data), NextSequence: next})
	case chainapi.PathGatekeepers:
		gks, err := gatekeeper.List(a.db)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		mk, ok, err := gatekeeper.GetMasterKey(a.db)
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		out := chainapi.GatekeepersInfo{Gatekeepers: make([]chainapi.GatekeeperInfo, len(gks)), MasterHistory: []chainapi.MasterKeyEpochInfo{}}
		for i, g := range gks {
			out.Gatekeepers[i] = chainapi.GatekeeperInfo{Identity: g.Identity.Hex(), Active: g.Active}
		}
		if ok {
			out.MasterPubkey, out.MasterEpoch = mk.Pubkey.Hex(), mk.Epoch
			for _, e := range mk.History {
				out.MasterHistory = append(out.MasterHistory, chainapi.MasterKeyEpochInfo{Epoch: e.Epoch, Pubkey: e.Pubkey.Hex(), Height: e.Height})
			}
		}
		res.Value = mustJSON(out)
	case chainapi.PathClusters, chainapi.PathCluster:
		var ids [][32]byte
		if req.Path == chainapi.PathCluster {
			if len(req.Data) != 32 {
				return fail(chainapi.QueryBadInput, "cluster query needs a 32-byte cluster id, got %d bytes", len(req.Data))
			}
			ids = [][32]byte{[32]byte(req.Data)}
		} else {
			var err error
			if ids, err = phat.ClusterIDs(a.db); err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
		}
		out := make([]chainapi.ClusterInfo, 0, len(ids))
		for _, id := range ids {
			cl, ok, err := phat.GetCluster(a.db, id)
			if err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
			if !ok {
				return fail(chainapi.QueryNotFound, "no cluster 0x%x", id)
			}
			var pub *keys.PublicKey
			if cl.HasPubkey {
				pub = &cl.Pubkey
			}
			ci := chainapi.ClusterInfoFrom(cl.ID, cl.Owner, cl.Permission, cl.Workers, pub, cl.Epoch, cl.Keyed, a.genesis.App.Params.SS58Prefix)
			ci.ReportInterval = cl.ReportInterval
			if req.Path == chainapi.PathCluster {
				if err := clusterAgreement(a.db, &cl, &ci); err != nil {
					return fail(chainapi.QueryInternal, "%v", err)
				}
			}
			out = append(out, ci)
		}
		if req.Path == chainapi.PathCluster {
			res.Value = mustJSON(out[0])
		} else {
			res.Value = mustJSON(out)
		}
	case chainapi.PathContracts, chainapi.PathContract:
		var ids [][32]byte
		switch {
		case req.Path == chainapi.PathContract:
			if len(req.Data) != 32 {
				return fail(chainapi.QueryBadInput, "contract query needs a 32-byte contract id, got %d bytes", len(req.Data))
			}
			ids = [][32]byte{[32]byte(req.Data)}
		case len(req.Data) == 32:
			if _, ok, err := phat.GetCluster(a.db, [32]byte(req.Data)); err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			} else if !ok {
				return fail(chainapi.QueryNotFound, "no cluster 0x%x", req.Data)
			}
			var err error
			if ids, err = phat.ClusterContracts(a.db, [32]byte(req.Data)); err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
		case len(req.Data) == 0:
			cls, err := phat.ClusterIDs(a.db)
			if err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
			for _, cl := range cls {
				more, err := phat.ClusterContracts(a.db, cl)
				if err != nil {
					return fail(chainapi.QueryInternal, "%v", err)
				}
				ids = append(ids, more...)
			}
		default:
			return fail(chainapi.QueryBadInput, "contracts query takes nothing or a 32-byte cluster id, got %d bytes", len(req.Data))
		}
		out := make([]chainapi.ContractInfo, 0, len(ids))
		for _, id := range ids {
			ct, ok, err := phat.GetContract(a.db, id)
			if err != nil {
				return fail(chainapi.QueryInternal, "%v", err)
			}
			if !ok {
				return fail(chainapi.QueryNotFound, "no contract 0x%x", id)
			}
			out = append(out, chainapi.ContractInfoFrom(id, ct.Cluster, ct.Deployer, ct.CodeHash, phat.ContractStateName(ct.State), ct.Pubkey, a.genesis.App.Params.SS58Prefix))
		}
		if req.Path == chainapi.PathContract {
			res.Value = mustJSON(out[0])
		} else {
			res.Value = mustJSON(out)
		}
	case chainapi.PathCode:
		if len(req.Data) != 32 {
			return fail(chainapi.QueryBadInput, "code query needs a 32-byte code hash, got %d bytes", len(req.Data))
		}
		code, ok, err := phat.GetCode(a.db, [32]byte(req.Data))
		if err != nil {
			return fail(chainapi.QueryInternal, "%v", err)
		}
		if !ok {
			return fail(chainapi.QueryNotFound, "no code 0x%x", req.Data)
		}
		res.Value = mustJSON(chainapi.CodeInfo{Hash: fmt.Sprintf("0x%x", req.Data), Kind: chainapi.CodeKindName(code.Kind), Size: len(code.Code)})
	case chainapi.PathGov, chainapi.PathGovProposal:
		v, code, log := a.queryGov(req.Path, req.Data, version)
		if code != chainapi.QueryOK {
			return fail(code, "%s", log)
		}
		res.Value = mustJSON(v)
	default:
		return fail(chainapi.QueryBadPath, "unknown query path %q (known: %s)", req.Path, strings.Join([]string{
			chainapi.PathAccount, chainapi.PathChain, chainapi.PathValidators, chainapi.PathBlocks, chainapi.PathWorkers, chainapi.PathMqSequence,
			chainapi.PathGatekeepers, chainapi.PathClusters, chainapi.PathCluster, chainapi.PathContracts, chainapi.PathContract, chainapi.PathCode,
			chainapi.PathGov, chainapi.PathGovProposal,
		}, ", "))
	}
	return res, nil
}

func truncate(w scale.Writer, n int) scale.Writer {
	var out scale.Writer
	out.Raw(w.Bytes()[:n])
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain types are marshalled
	}
	return b
}

// clusterAgreement fills ci's state root records, last agreed root and
// divergence alarms.
// clusterMembership maps each worker of a cluster to the ids (0x-hex) of
// its clusters, in cluster id order.
func clusterMembership(st state.Store) (map[keys.PublicKey][]string, error) {
	ids, err := phat.ClusterIDs(st)
	if err != nil {
		return nil, err
	}
	out := map[keys.PublicKey][]string{}
	for _, id := range ids {
		cl, ok, err := phat.GetCluster(st, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: cluster %x is listed but has no record", state.ErrCorruptState, id)
		}
		for _, w := range cl.Workers {
			out[w] = append(out[w], "0x"+hex.EncodeToString(id[:]))
		}
	}
	return out, nil
}

func clusterAgreement(st state.Store, cl *phat.Cluster, ci *chainapi.ClusterInfo) error {
	recs, err := phat.RootRecords(st, cl.ID)
	if err != nil {
		return err
	}
	alarms, err := phat.Alarms(st, cl.ID)
	if err != nil {
		return err
	}
	info := func(r phat.RootRecord) chainapi.StateRootInfo {
		ag := make([]string, len(r.Agreeing))
		for i, w := range r.Agreeing {
			ag[i] = w.Hex()
		}
		return chainapi.StateRootInfo{Height: r.Height, Root: "0x" + hex.EncodeToString(r.Root[:]), Agreeing: ag}
	}
	for _, r := range recs {
		ci.Roots = append(ci.Roots, info(r))
	}
	if la, ok := phat.LastAgreed(recs, cl.Keyed); ok {
		li := info(la)
		ci.LastAgreed = &li
	}
	for _, al := range alarms {
		ci.Alarms = append(ci.Alarms, chainapi.AlarmInfo{Height: al.Height, Worker: al.Worker.Hex(),
			Root: "0x" + hex.EncodeToString(al.Root[:]), ExpectedRoot: "0x" + hex.EncodeToString(al.Expected[:])})
	}
	return nil
}
