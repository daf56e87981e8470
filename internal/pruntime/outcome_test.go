package pruntime

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
)

// TestCommandOutcome asks a worker for the outcome of an instantiate it
// executed (command id 1, deployed by //Alice) on Public.CommandOutcome:
// Alice gets it; //Bob, an unknown command id and a tampered certificate
// do not.
func TestCommandOutcome(t *testing.T) {
	r, _, _, contract, _ := flipperRuntime(t)
	defer r.Close()
	bob, _ := keys.FromURI("//Bob")
	cmd := [32]byte{1} // the instantiate's command id
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	pub := pruntimev1connect.NewPublicClient(http.DefaultClient, srv.URL)

	ask := func(qc *qclient, id [32]byte) *phatwire.ContractQueryResponse {
		t.Helper()
		q := qc.query(id, inkMessage())
		res, err := pub.CommandOutcome(t.Context(), qc.seal(t, q))
		if err != nil {
			t.Fatal(err)
		}
		return qc.open(t, q, res)
	}
	qa := newQClient(t, r.Info().EcdhPublicKey, 1000)
	resp := ask(qa, cmd)
	if resp.Err != nil {
		t.Fatalf("sender: %v", resp.Err)
	}
	o, err := phatwire.DecodeCommandOutcome(resp.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if o.Contract != contract || o.Height != 5 || o.Refused != "" || o.Error != "" || o.Reverted() || o.GasUsed == 0 {
		t.Fatalf("outcome %+v", o)
	}

	// Bob's certificate: the same answer as for a command nobody sent.
	qb := newQClient(t, r.Info().EcdhPublicKey, 1000)
	qb.alice = bob
	if qb.cert, err = phatwire.IssueCertificate(bob, qb.eph.Public(), 1000, phatwire.Sr25519); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		qc *qclient
		id [32]byte
	}{"another account": {qb, cmd}, "unknown command": {qa, [32]byte{2}}, "a contract id": {qa, contract}} {
		resp := ask(tc.qc, tc.id)
		if resp.Err == nil || resp.Err.Message != ErrNoOutcome || resp.Payload != nil {
			t.Errorf("%s: %+v", name, resp)
		}
	}

	// A certificate that claims Alice as root but Bob signed: refused
	// before anything is looked up.
	forged, _ := phatwire.IssueCertificate(bob, qa.eph.Public(), 1000, phatwire.Sr25519)
	forged.Signature.SignedBy = qa.cert.Signature.SignedBy
	q := qa.query(cmd, inkMessage())
	req := qa.seal(t, q)
	req.Signature = prpcpb.FromSignature(phatwire.SignQuery(forged, qa.eph, req.EncodedEncryptedData))
	if _, err := pub.CommandOutcome(t.Context(), req); connect.CodeOf(err) != connect.CodeUnauthenticated ||
		!strings.Contains(err.Error(), "signature verification failed") {
		t.Fatalf("forged certificate: %v", err)
	}
	// Unsigned: no origin, no outcome.
	req = qa.seal(t, q)
	req.Signature = nil
	res, err := pub.CommandOutcome(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp := qa.open(t, q, res); resp.Err == nil || resp.Err.Kind != phatwire.QueryErrBadOrigin || bytes.Contains(resp.Payload, contract[:]) {
		t.Fatalf("unsigned: %+v", resp)
	}
}
