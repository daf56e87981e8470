package phatwire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/scale"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	id32    = strings.Repeat("cc", 32)
	nonce32 = strings.Repeat("aa", 32)
	zero16  = strings.Repeat("00", 16)
)

func TestDecodeBadInput(t *testing.T) {
	type dec func([]byte) error
	query := func(b []byte) error { _, err := DecodeContractQuery(b); return err }
	resp := func(b []byte) error { _, err := DecodeContractQueryResponse(b); return err }
	cmd := func(b []byte) error { _, err := DecodeCommandPayload(b); return err }
	exec := func(b []byte) error { _, err := DecodeContractExecResult(b); return err }
	inst := func(b []byte) error { _, err := DecodeContractInstantiateResult(b); return err }
	body := func(b []byte) error { _, err := DecodeCertificateBody(b); return err }
	okMsg := id32 + nonce32 + "00 04 01 " + zero16 + zero16 + "00"
	okCmd := "00 00 04 55 00 " + zero16 + "0000000000000000 00"
	okExec := "04 08 0c 10 00" + zero16 + "00 00 00000000 00"
	cases := []struct {
		name string
		dec  dec
		in   string
		ok   bool
	}{
		{"query ok", query, okMsg, true},
		{"query empty", query, "", false},
		{"query head only", query, id32 + nonce32, false},
		{"query unknown variant", query, id32 + nonce32 + "03", false},
		{"query bad bool", query, id32 + nonce32 + "00 04 01 " + zero16 + zero16 + "02", false},
		{"query trailing byte", query, okMsg + "00", false},
		{"query huge length", query, id32 + nonce32 + "01 fe ff ff ff", false},
		{"query non-canonical length", query, id32 + nonce32 + "01 0100", false},
		{"query truncated u128", query, id32 + nonce32 + "00 00 " + zero16[:30], false},
		{"instantiate short code hash", query, id32 + nonce32 + "02 dddd", false},
		{"response ok", resp, nonce32 + "00 00 04 01", true},
		{"response bad result tag", resp, nonce32 + "02", false},
		{"response unknown ok variant", resp, nonce32 + "00 01 00", false},
		{"response unknown error", resp, nonce32 + "01 06", false},
		{"response error ok", resp, nonce32 + "01 05", true},
		{"response runtime error truncated", resp, nonce32 + "01 01 10 62", false},
		{"response short nonce", resp, "aaaa", false},
		{"command ok", cmd, okCmd, true},
		{"command unknown payload", cmd, "02", false},
		{"command unknown ink variant", cmd, "00 01", false},
		{"command nonce 33 bytes", cmd, "00 00 84 " + strings.Repeat("55", 33) + "00" + zero16 + "0000000000000000 00", false},
		{"command nonce 32 bytes", cmd, "00 00 80 " + strings.Repeat("55", 32) + "00" + zero16 + "0000000000000000 00", true},
		{"command bad option", cmd, "00 00 04 55 00 " + zero16 + "0000000000000000 02", false},
		{"command encrypted short", cmd, "01 " + strings.Repeat("00", 44) + "00", false},
		{"command encrypted data shorter than tag", cmd, "01 " + strings.Repeat("00", 44) + "04 00000000", false},
		{"command encrypted ok", cmd, "01 " + strings.Repeat("00", 44) + "40" + zero16, true},
		{"exec ok", exec, okExec, true},
		{"exec bad storage deposit", exec, "04 08 0c 10 02" + zero16 + "00 00 00000000 00", false},
		{"exec err module", exec, "04 08 0c 10 00" + zero16 + "00 01 03 04 01020304", true},
		{"exec err token out of range", exec, "04 08 0c 10 00" + zero16 + "00 01 07 09", false},
		{"exec err arithmetic", exec, "04 08 0c 10 00" + zero16 + "00 01 08 02", true},
		{"exec err transactional out of range", exec, "04 08 0c 10 00" + zero16 + "00 01 09 02", false},
		{"exec err unknown variant", exec, "04 08 0c 10 00" + zero16 + "00 01 0d", false},
		{"exec trailing", exec, okExec + "00", false},
		{"exec huge debug message", exec, "04 08 0c 10 00" + zero16 + "03 ffffff7f", false},
		{"instantiate ok", inst, okExec + strings.Repeat("ab", 32), true},
		{"instantiate missing account", inst, okExec, false},
		{"instantiate err", inst, "04 08 0c 10 00" + zero16 + "00 01 02", true},
		{"body ok", body, "80" + strings.Repeat("11", 32) + "ffffff7f 00000000", true},
		{"body short", body, "80" + strings.Repeat("11", 32) + "ffffff7f", false},
	}
	for _, c := range cases {
		err := c.dec(hx(t, c.in))
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", c.name, err)
		}
	}
	// Oversized inputs are refused before decoding.
	if _, err := DecodeContractQuery(make([]byte, MaxQuerySize+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized query: %v", err)
	}
	if _, err := DecodeCertificateBody(make([]byte, MaxCertificateBodySize+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized body: %v", err)
	}
}

// TestEncodeDecode round-trips values the vectors do not cover.
func TestEncodeDecode(t *testing.T) {
	limit := scale.U128{Lo: 1, Hi: 2}
	for _, e := range []*DispatchError{
		{Kind: DispatchOther}, {Kind: DispatchModule, Module: ModuleError{Index: 7, Error: [4]byte{1, 2, 3, 4}}},
		{Kind: DispatchToken, Sub: 8}, {Kind: DispatchArithmetic, Sub: 1}, {Kind: DispatchTransactional, Sub: 1},
		{Kind: DispatchUnavailable},
	} {
		r := &ContractExecResult{GasConsumed: Weight{1 << 40, 3}, DebugMessage: "x", Err: e}
		got, err := DecodeContractExecResult(r.Encode())
		if err != nil || got.Err == nil || *got.Err != *e || got.GasConsumed != r.GasConsumed {
			t.Errorf("%v: %+v, %v", e, got, err)
		}
		if e.Error() == "" {
			t.Errorf("%v: empty message", e.Kind)
		}
	}
	for _, q := range []*QueryError{{Kind: QueryErrBadOrigin}, {Kind: QueryErrRuntimeError, Message: "x"}, {Kind: QueryErrTimeout}} {
		r := &ContractQueryResponse{Nonce: [32]byte{9}, Err: q}
		got, err := DecodeContractQueryResponse(r.Encode())
		if err != nil || got.Err == nil || *got.Err != *q || got.Nonce != r.Nonce {
			t.Errorf("%v: %+v, %v", q, got, err)
		}
	}
	c := &InkCommand{Nonce: []byte{1}, Message: []byte{2, 3}, Transfer: limit, GasLimit: 5, StorageDepositLimit: &limit}
	b, err := (&CommandPayload{Plain: c}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeCommandPayload(b)
	if err != nil || got.Plain == nil || *got.Plain.StorageDepositLimit != limit || !bytes.Equal(got.Plain.Message, c.Message) {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, err := (&CommandPayload{Plain: &InkCommand{Nonce: make([]byte, 33)}}).Encode(); !errors.Is(err, ErrNonceTooLong) {
		t.Fatalf("long nonce: %v", err)
	}
	if _, err := (&CommandPayload{}).Encode(); err == nil {
		t.Fatal("empty payload encoded")
	}
}
