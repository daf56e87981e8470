// Command gen prints the Cella-side wire vectors the TypeScript SDK's unit
// tests check byte for byte (sdk-ts/test/testdata/cella-vectors.json),
// produced by the Go code that the chain and the workers run:
//
//	go run ./sdk-ts/test/testdata/gen > sdk-ts/test/testdata/cella-vectors.json
//
// It lives under testdata so that `go build ./...` skips it.
package main

import (
	"encoding/hex"
	"encoding/json"
	"os"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
	"github.com/cella-network/cella/sdk"
)

func h(b []byte) string { return "0x" + hex.EncodeToString(b) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func rep(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func main() {
	alice := must(keys.FromURI("//Alice"))
	bob := must(keys.FromURI("//Bob"))
	var genesis [32]byte
	copy(genesis[:], rep(0x11, 32))
	unit := scale.U128From(1_000_000_000_000)

	transfer := balances.TransferCall(bob.Public(), unit)
	body := tx.Body{Version: tx.Version1, Scheme: tx.Sr25519, Signer: alice.Public(), Genesis: genesis,
		Nonce: 7, ValidUntil: 600, FeeLimit: unit, Call: transfer}
	signed := tx.Sign(body, alice)
	wrapped := &tx.Tx{Body: body, Wrapping: tx.WrapBytes}
	wrapped.Signature = alice.Sign(wrapped.SignedMessage())

	var cluster0 [32]byte = phat.ClusterID(0)
	code := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	upload := phat.UploadCodeCall(phat.UploadArgs{Cluster: cluster0, Kind: msg.CodeKindInk, Code: code})
	longBody := body
	longBody.Call = phat.UploadCodeCall(phat.UploadArgs{Cluster: cluster0, Kind: msg.CodeKindInk, Code: rep(0xab, 300)})
	var codeHash [32]byte = phat.CodeHash(code)
	sdl := scale.U128From(12345)
	inst := phat.InstantiateCall(phat.InstantiateArgs{Cluster: cluster0, CodeHash: codeHash, Data: []byte{0x9b, 0xae, 0x9d, 0x5e, 1},
		Salt: []byte{1, 2}, Transfer: scale.U128From(5), GasLimit: 100_000_000_000, StorageDepositLimit: &sdl})
	instNone := phat.InstantiateCall(phat.InstantiateArgs{Cluster: cluster0, CodeHash: codeHash, Data: []byte{0x9b, 0xae, 0x9d, 0x5e, 0},
		GasLimit: 1000})
	var contract [32]byte
	copy(contract[:], rep(0xcc, 32))
	push := phat.PushCommandCall(phat.PushArgs{Contract: contract, Payload: []byte{0, 1, 2}, GasLimit: 100_000_000_000, Deposit: scale.U128From(9)})

	charlie := must(keys.FromURI("//Charlie"))
	allow := registry.AllowMeasurementCall([32]byte(rep(0x5f, 32)))
	propose := gov.ProposeCall(allow, false)
	proposeRef := gov.ProposeCall(admin.RemoveCall(), true)
	voteCouncil := gov.VoteCall(3, true, scale.U128{})
	voteStake := gov.VoteCall(1<<40, false, scale.U128From(5_000_000_000_000))
	council := gov.SetCouncilCall([]keys.PublicKey{alice.Public(), bob.Public(), charlie.Public()}, 2)
	upgrade := gov.ScheduleUpgradeCall(5_000_000, 3)
	call := func(c tx.Call) map[string]any {
		return map[string]any{"module": c.Module, "method": c.Method, "args": h(c.Args)}
	}

	outcome := phatwire.CommandOutcome{Height: 42, Contract: contract, Flags: 1, Output: []byte{0, 1}, GasUsed: 123456,
		Events: []phatwire.OutcomeEvent{{Contract: contract, Topics: [][32]byte{[32]byte(rep(0xee, 32))}, Data: []byte{7, 8}}}}
	refused := phatwire.CommandOutcome{Height: 43, Contract: contract, Refused: "nonce seen before", Error: "x"}
	page := phatwire.LogPage{Entries: []phatwire.LogEntry{{Seq: 1, Block: 10, TimeMs: 1700000000000, Level: 3, Message: "hello"},
		{Seq: 2, Block: 11, TimeMs: 1700000001000, Level: 1, InQuery: true, Message: "boom"}}, Next: 2}
	noOutcome := phatwire.ContractQueryResponse{Nonce: [32]byte(rep(0xaa, 32)), Err: &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: phatwire.NoOutcome}}
	names := map[uint32]string{}
	for c := uint32(0); c < 200; c++ {
		if n := state.CodeName(c); n != "code_"+itoa(c) {
			names[c] = n
		}
	}
	out := map[string]any{
		"generator": "go run ./sdk-ts/test/testdata/gen",
		"keys":      map[string]string{"alice": alice.Public().Hex(), "bob": bob.Public().Hex()},
		"tx": map[string]any{
			"genesis": h(genesis[:]), "nonce": 7, "validUntil": 600, "feeLimit": "1000000000000",
			"call":            map[string]any{"module": transfer.Module, "method": transfer.Method, "args": h(transfer.Args)},
			"body":            h(scale.Encode(&body)),
			"signingPayload":  h(body.SigningPayload()),
			"signed":          h(signed.Encode()),
			"signature":       h(signed.Signature[:]),
			"wrappedSigned":   h(wrapped.Encode()),
			"wrappedMessage":  h(wrapped.SignedMessage()),
			"longBody":        h(scale.Encode(&longBody)),
			"longSigningHash": h(longBody.SigningPayload()),
		},
		"calls": map[string]any{
			"upload":          map[string]any{"module": upload.Module, "method": upload.Method, "args": h(upload.Args), "code": h(code), "codeHash": h(codeHash[:])},
			"instantiate":     map[string]any{"module": inst.Module, "method": inst.Method, "args": h(inst.Args)},
			"instantiateNone": h(instNone.Args),
			"push":            map[string]any{"module": push.Module, "method": push.Method, "args": h(push.Args)},
		},
		"gov": map[string]any{
			"charlie":             charlie.Public().Hex(),
			"measurement":         h(rep(0x5f, 32)),
			"allowMeasurement":    call(allow),
			"disallowMeasurement": call(registry.DisallowMeasurementCall([32]byte(rep(0x5f, 32)))),
			"removeAdmin":         call(admin.RemoveCall()),
			"propose":             call(propose),
			"proposeReferendum":   call(proposeRef),
			"voteCouncil":         call(voteCouncil),
			"voteStake":           call(voteStake),
			"setCouncil":          call(council),
			"scheduleUpgrade":     call(upgrade),
			"cancelUpgrade":       call(gov.CancelUpgradeCall()),
			"addGatekeeper":       call(gatekeeper.AddCall(charlie.Public())),
			"removeGatekeeper":    call(gatekeeper.RemoveCall(charlie.Public())),
		},
		"ids": map[string]any{
			"cluster0": h(cluster0[:]), "cluster1": h(func() []byte { c := phat.ClusterID(1); return c[:] }()),
			"contractAddress": h(func() []byte {
				a := msg.ContractID(alice.Public(), codeHash, cluster0, []byte{1, 2})
				return a[:]
			}()),
			"commandId_5_2": h(func() []byte { c := msg.CommandID(5, 2); return c[:] }()),
			"aliceSS58":     keys.EncodeSS58(alice.Public(), keys.DefaultSS58Prefix),
		},
		"outcome":        h(scale.Encode(&outcome)),
		"outcomeRefused": h(scale.Encode(&refused)),
		"logRequest":     h(scale.Encode(&phatwire.LogRequest{After: 5, Max: 100})),
		"logPage":        h(scale.Encode(&page)),
		"noOutcome":      h(noOutcome.Encode()),
		"codeNames":      names,
		"limits": map[string]any{
			"maxCodeSize": msg.MaxCodeSize, "maxSaltLen": msg.MaxSaltLen, "maxCommandPayload": msg.MaxCommandPayload,
			"maxTxBytes": tx.MaxTxBytes, "defaultValidity": client.DefaultValidity, "defaultFeeLimit": client.DefaultFeeLimit.String(),
			"defaultGasLimit": sdk.DefaultGasLimit, "uploadWeight": phat.UploadCodeWeight, "uploadWeightPerByte": phat.UploadCodeWeightPerByte,
			"instantiateWeight": phat.InstantiateWeight, "pushWeight": phat.PushCommandWeight, "payloadWeightPerByte": phat.PayloadWeightPerByte,
			"defaultSS58Prefix": keys.DefaultSS58Prefix, "defaultNodeURL": client.DefaultNode, "defaultWorkerURL": sdk.DefaultWorkerURL,
			"noOutcome": phatwire.NoOutcome, "noLogs": pruntime.ErrNoLogs, "queryCertTTL": sdk.QueryCertTTL,
		},
	}
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	if err := e.Encode(out); err != nil {
		panic(err)
	}
}

func itoa(c uint32) string { return string(must(json.Marshal(c))) }
