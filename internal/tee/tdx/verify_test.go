package tdx

import (
	"bytes"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/tee"
)

// fixture is one synthetic quote with matching collateral.
type fixture struct {
	w      *synthWorld
	rd     [64]byte
	body   TDQuoteBody
	quote  []byte
	info   jTCBInfo
	qe     jQEIdentity
	now    int64
	policy Policy
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{w: newSynthWorld(t), info: defaultTCBInfo(), qe: defaultQEIdentity(), now: synthNow.Unix()}
	copy(f.rd[:], "cella registration report data")
	f.body = synthBody(f.rd)
	f.quote = f.w.quote(t, f.body, quoteOpts{})
	return f
}

func (f *fixture) verifier() *Verifier { return newVerifierWithRoot(f.policy, f.w.root) }

func (f *fixture) collateral(t testing.TB) []byte { return f.w.collateral(t, f.info, f.qe).Encode() }

func (f *fixture) verify(t testing.TB) (tee.Measurement, error) {
	t.Helper()
	return f.verifier().Verify(f.quote, f.collateral(t), f.rd, f.now)
}

func TestSyntheticQuoteVerifies(t *testing.T) {
	f := newFixture(t)
	m, err := f.verify(t)
	if err != nil {
		t.Fatal(err)
	}
	want := f.body.Measurement()
	if !m.Equal(want) || m.Kind != tee.KindTDX || m.TDX.Debug {
		t.Fatalf("measurement %v, want %v", m, want)
	}
	if m.TDX.MRTD[0] != 0x7d || m.TDX.RTMR2[47] != 0xa2 || m.TDX.MRSEAM[3] != 0x5e {
		t.Fatalf("measurement fields not taken from the quote: %v", m)
	}
	r, err := f.verifier().Evaluate(f.quote, f.collateral(t), f.now)
	if err != nil {
		t.Fatal(err)
	}
	if r.TCBStatus != TCBUpToDate || r.FMSPC != "90C06F000000" || r.TCBEvaluationDataNumber != 17 || r.CRLsChecked {
		t.Fatalf("report %+v", r)
	}
}

func TestProductionVerifierRefusesSyntheticRoot(t *testing.T) {
	f := newFixture(t)
	_, err := NewVerifier(Policy{}).Verify(f.quote, f.collateral(t), f.rd, f.now)
	if !errors.Is(err, ErrQuoteCertification) {
		t.Fatalf("got %v, want ErrQuoteCertification", err)
	}
}

// TestTCBPolicy runs the TCB status of the matched platform level through
// the default policy and permissive ones.
func TestTCBPolicy(t *testing.T) {
	strict := Policy{}
	sw := Policy{AllowSWHardeningNeeded: true}
	cfg := Policy{AllowConfigurationNeeded: true}
	both := Policy{AllowSWHardeningNeeded: true, AllowConfigurationNeeded: true}
	for _, tc := range []struct {
		status string
		policy Policy
		want   error
	}{
		{"UpToDate", strict, nil},
		{"SWHardeningNeeded", strict, ErrTCBNotAccepted},
		{"SWHardeningNeeded", sw, nil},
		{"SWHardeningNeeded", cfg, ErrTCBNotAccepted},
		{"ConfigurationNeeded", strict, ErrTCBNotAccepted},
		{"ConfigurationNeeded", cfg, nil},
		{"ConfigurationAndSWHardeningNeeded", cfg, ErrTCBNotAccepted},
		{"ConfigurationAndSWHardeningNeeded", sw, ErrTCBNotAccepted},
		{"ConfigurationAndSWHardeningNeeded", both, nil},
		{"OutOfDate", both, ErrTCBOutOfDate},
		{"OutOfDateConfigurationNeeded", both, ErrTCBOutOfDate},
		{"Revoked", both, ErrTCBRevoked},
	} {
		t.Run(tc.status, func(t *testing.T) {
			f := newFixture(t)
			f.policy = tc.policy
			f.info.TCBLevels = []jTCBLevel{newerLevel(), platformLevel(tc.status, "INTEL-SA-00999", "INTEL-SA-00001")}
			_, err := f.verify(t)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("policy %+v: got %v, want %v", tc.policy, err, tc.want)
			}
			if err != nil {
				var se *TCBStatusError
				if !errors.As(err, &se) || string(se.Status) != tc.status ||
					!slices.Equal(se.AdvisoryIDs, []string{"INTEL-SA-00001", "INTEL-SA-00999"}) {
					t.Fatalf("status error %#v", err)
				}
			}
		})
	}
}

func TestTCBEvaluation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mut    func(f *fixture)
		status TCBStatus
		err    error
	}{
		{"platform below every level is out of date", func(f *fixture) {
			f.info.TCBLevels = []jTCBLevel{newerLevel()}
		}, TCBOutOfDate, nil},
		{"lower PCESVN picks the older level", func(f *fixture) {
			l := platformLevel("UpToDate")
			l.TCB.PCESVN = 12
			f.info.TCBLevels = []jTCBLevel{l, platformLevel("OutOfDate")}
		}, TCBOutOfDate, nil},
		{"TEE_TCB_SVN below the level", func(f *fixture) {
			l := platformLevel("UpToDate")
			l.TCB.TDX = comps(3, 0, 6)
			f.info.TCBLevels = []jTCBLevel{l, platformLevel("OutOfDate")}
		}, TCBOutOfDate, nil},
		{"QE out of date converges", func(f *fixture) {
			f.qe.TCBLevels[0].TCB.ISVSVN = ptr(5)
		}, TCBOutOfDate, nil},
		{"QE out of date with ConfigurationNeeded platform", func(f *fixture) {
			f.qe.TCBLevels[0].TCB.ISVSVN = ptr(5)
			f.info.TCBLevels = []jTCBLevel{platformLevel("ConfigurationNeeded")}
		}, TCBOutOfDateConfigurationNeeded, nil},
		{"QE revoked", func(f *fixture) {
			f.qe.TCBLevels[1].TCBStatus = "Revoked"
			f.qe.TCBLevels[0].TCB.ISVSVN = ptr(5)
		}, TCBRevoked, nil},
		{"QE MRSIGNER differs", func(f *fixture) {
			f.qe.MRSigner = "00" + f.qe.MRSigner[2:]
		}, "", ErrQEIdentityMismatch},
		{"QE ISVPRODID differs", func(f *fixture) { f.qe.ISVProdID = 1 }, "", ErrQEIdentityMismatch},
		{"QE attributes differ", func(f *fixture) {
			f.qe.Attributes = "15000000000000000000000000000000"
		}, "", ErrQEIdentityMismatch},
		{"module MRSIGNERSEAM differs", func(f *fixture) {
			f.info.TDXModule.MRSigner = "01" + f.info.TDXModule.MRSigner[2:]
		}, "", ErrTDXModuleMismatch},
		{"upper-case FMSPC accepted", func(f *fixture) {}, TCBUpToDate, nil},
		{"lower-case FMSPC accepted", func(f *fixture) { f.info.FMSPC = "90c06f000000" }, TCBUpToDate, nil},
		{"other FMSPC", func(f *fixture) { f.info.FMSPC = "90C06F000001" }, "", ErrFMSPCMismatch},
		{"other PCEID", func(f *fixture) { f.info.PCEID = "0001" }, "", ErrFMSPCMismatch},
		{"wrong TCB info id", func(f *fixture) { f.info.ID = "SGX" }, "", ErrMalformedCollateral},
		{"TCB info version 2", func(f *fixture) { f.info.Version = 2 }, "", ErrMalformedCollateral},
		{"TCB level with 15 components", func(f *fixture) {
			f.info.TCBLevels[0].TCB.SGX = f.info.TCBLevels[0].TCB.SGX[:15]
		}, "", ErrMalformedCollateral},
		{"unknown status", func(f *fixture) {
			f.info.TCBLevels[0].TCBStatus = "Perfect"
		}, "", ErrMalformedCollateral},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.mut(f)
			r, err := f.verifier().Evaluate(f.quote, f.collateral(t), f.now)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.TCBStatus != tc.status {
				t.Fatalf("status %s, want %s (%+v)", r.TCBStatus, tc.status, r)
			}
		})
	}
}

// TestTDXModuleIdentity uses a TDX 1.5 style TEE_TCB_SVN (minor version 1):
// the module's status comes from tdxModuleIdentities "TDX_01".
func TestTDXModuleIdentity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		svn    byte // TEE_TCB_SVN[0], the module's SVN
		id     string
		status TCBStatus
		err    error
	}{
		{"current module", 4, "TDX_01", TCBUpToDate, nil},
		{"old module", 3, "TDX_01", TCBOutOfDate, nil},
		{"module below every level", 1, "TDX_01", TCBOutOfDate, nil},
		{"unknown module version", 4, "TDX_03", "", ErrTCBUnrecognized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.body.TEETCBSVN = [16]byte{tc.svn, 1, 5}
			f.quote = f.w.quote(t, f.body, quoteOpts{})
			f.info.TDXModuleIdentities[0].ID = tc.id
			// indices 0 and 1 are judged by the module identity, not the level
			f.info.TCBLevels[0].TCB.TDX = comps(99, 99, 5)
			r, err := f.verifier().Evaluate(f.quote, f.collateral(t), f.now)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.TCBStatus != tc.status || r.ModuleStatus == "" {
				t.Fatalf("status %s (module %s), want %s", r.TCBStatus, r.ModuleStatus, tc.status)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// TestTamperedQuote flips bytes of the quote and checks the specific error.
func TestTamperedQuote(t *testing.T) {
	f := newFixture(t)
	col := f.collateral(t)
	v := f.verifier()
	sigOff := signedDataOffset
	qeOff := signedDataOffset + 128 + 6
	for _, tc := range []struct {
		name  string
		quote []byte
		want  error
	}{
		{"report data", flip(f.quote, signedOffset-1), ErrQuoteSignature},
		{"MRTD", flip(f.quote, headerSize+136), ErrQuoteSignature},
		{"header user data", flip(f.quote, 40), ErrQuoteSignature},
		{"signature", flip(f.quote, sigOff+5), ErrQuoteSignature},
		{"attestation key", flip(f.quote, sigOff+64+10), ErrQuoteCertification},
		{"QE report", flip(f.quote, qeOff+200), ErrQuoteCertification},
		{"QE report signature", flip(f.quote, qeOff+qeReportSize+3), ErrQuoteCertification},
		{"QE auth data", flip(f.quote, qeOff+qeReportSize+64+2+1), ErrQuoteCertification},
		{"version", flip(f.quote, 0), ErrUnsupportedQuote},
		{"TEE type", flip(f.quote, 4), ErrUnsupportedQuote},
		{"QE vendor", flip(f.quote, 12), ErrUnsupportedQuote},
		{"truncated", f.quote[:len(f.quote)-1], ErrMalformedQuote},
		{"signed size", flip(f.quote, signedOffset), ErrMalformedQuote},
		{"empty", nil, ErrMalformedQuote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.quote, col, f.rd, f.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReportDataAndDebug(t *testing.T) {
	f := newFixture(t)
	other := f.rd
	other[63] ^= 1
	if _, err := f.verifier().Verify(f.quote, f.collateral(t), other, f.now); !errors.Is(err, tee.ErrReportDataMismatch) {
		t.Fatalf("other report data: %v", err)
	}
	f.body.TDAttributes[0] |= 1
	f.quote = f.w.quote(t, f.body, quoteOpts{})
	if _, err := f.verify(t); !errors.Is(err, ErrDebugTD) {
		t.Fatalf("debug TD: %v", err)
	}
}

func TestTrailingBytesIgnored(t *testing.T) {
	f := newFixture(t)
	f.quote = append(bytes.Clone(f.quote), make([]byte, 70)...)
	if _, err := f.verify(t); err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuote(f.quote)
	if err != nil || q.Trailing != 70 {
		t.Fatalf("trailing %v %v", q, err)
	}
}

func TestCollateralChecks(t *testing.T) {
	day := int64(24 * 3600)
	for _, tc := range []struct {
		name string
		mut  func(t *testing.T, f *fixture, c *Collateral)
		now  int64 // offset from synthNow
		want error
	}{
		{"TCB info signature", func(t *testing.T, f *fixture, c *Collateral) { c.TCBInfoSignature[7] ^= 1 }, 0, ErrCollateralSignature},
		{"TCB info body", func(t *testing.T, f *fixture, c *Collateral) {
			c.TCBInfo = bytes.Replace(c.TCBInfo, []byte(`"tcbEvaluationDataNumber":17`), []byte(`"tcbEvaluationDataNumber":18`), 1)
		}, 0, ErrCollateralSignature},
		{"QE identity signature", func(t *testing.T, f *fixture, c *Collateral) { c.QEIdentitySignature[63] ^= 1 }, 0, ErrCollateralSignature},
		{"TCB info signed by the PCK CA", func(t *testing.T, f *fixture, c *Collateral) {
			c.TCBInfoIssuerChain = pemOf(f.w.pckCA, f.w.root)
			c.TCBInfoSignature = rawSig(t, f.w.pckCAKey, c.TCBInfo)
		}, 0, ErrCollateralSignature},
		{"TCB signer from another root", func(t *testing.T, f *fixture, c *Collateral) {
			o := newSynthWorld(t)
			c.TCBInfoIssuerChain = pemOf(o.tcbSigner, o.root)
			c.TCBInfoSignature = rawSig(t, o.tcbKey, c.TCBInfo)
		}, 0, ErrCollateralSignature},
		{"short signature", func(t *testing.T, f *fixture, c *Collateral) { c.TCBInfoSignature = c.TCBInfoSignature[:63] }, 0, ErrMalformedCollateral},
		{"no issuer chain", func(t *testing.T, f *fixture, c *Collateral) { c.QEIdentityIssuerChain = nil }, 0, ErrMalformedCollateral},
		{"TCB info expired", nil, 25 * day, ErrCollateralExpired},
		{"TCB info not yet issued", nil, -15 * day, ErrCollateralExpired},
		{"QE identity expired", func(t *testing.T, f *fixture, c *Collateral) {
			f.qe.NextUpdate = "2029-12-31T00:00:00Z"
			*c = *f.w.collateral(t, f.info, f.qe)
		}, 0, ErrCollateralExpired},
		{"too old for the policy", func(t *testing.T, f *fixture, c *Collateral) {
			f.policy.MinTCBEvaluationDataNumber = 18
		}, 0, ErrCollateralTooOld},
		{"policy requires CRLs", func(t *testing.T, f *fixture, c *Collateral) { f.policy.RequireCRLs = true }, 0, ErrCRLMissing},
		{"only one CRL", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, nil, nil)
			c.PCKCRL = nil
		}, 0, ErrCRLMissing},
		{"PCK certificate revoked", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, nil, []*big.Int{big.NewInt(1), f.w.pck.SerialNumber})
		}, 0, ErrRevoked},
		{"PCK CA revoked", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, []*big.Int{f.w.pckCA.SerialNumber}, nil)
		}, 0, ErrRevoked},
		{"TCB signing certificate revoked", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, []*big.Int{f.w.tcbSigner.SerialNumber}, nil)
		}, 0, ErrRevoked},
		{"CRL expired", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, nil, nil)
			c.PCKCRL = crl(t, f.w.pckCA, f.w.pckCAKey, synthNow.Add(-60*24*time.Hour), synthNow.Add(-time.Hour))
		}, 0, ErrCollateralExpired},
		{"CRL signed by another key", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, nil, nil)
			c.RootCACRL = crl(t, f.w.root, f.w.pckCAKey, synthNow.Add(-time.Hour), synthNow.Add(time.Hour))
		}, 0, ErrCollateralSignature},
		{"PCK CRL from the root", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, nil, nil)
			c.PCKCRL = c.RootCACRL
		}, 0, ErrCollateralSignature},
		{"garbage CRL", func(t *testing.T, f *fixture, c *Collateral) {
			f.w.withCRLs(t, c, nil, nil)
			c.PCKCRL = []byte{0x30, 0x03, 1, 2, 3}
		}, 0, ErrMalformedCollateral},
		{"good CRLs", func(t *testing.T, f *fixture, c *Collateral) {
			f.policy.RequireCRLs = true
			f.w.withCRLs(t, c, []*big.Int{big.NewInt(77)}, []*big.Int{big.NewInt(78)})
		}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.w.collateral(t, f.info, f.qe)
			if tc.mut != nil {
				tc.mut(t, f, c)
			}
			_, err := f.verifier().Verify(f.quote, c.Encode(), f.rd, f.now+tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMalformedCollateralBytes(t *testing.T) {
	f := newFixture(t)
	good := f.collateral(t)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"version 2": append([]byte{2}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(bytes.Clone(good), 0),
		"huge":      make([]byte, MaxCollateralSize+1),
	} {
		if _, err := f.verifier().Verify(f.quote, b, f.rd, f.now); !errors.Is(err, ErrMalformedCollateral) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestCollateralEncodingRoundTrip(t *testing.T) {
	f := newFixture(t)
	c := f.w.withCRLs(t, f.w.collateral(t, f.info, f.qe), nil, nil)
	d, err := DecodeCollateral(c.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Encode(), c.Encode()) || !bytes.Equal(d.PCKCRL, c.PCKCRL) {
		t.Fatal("round trip changed the collateral")
	}
}

// TestVerifyDeterministic checks that the same inputs give the same answer
// and that only the block time decides expiry.
func TestVerifyDeterministic(t *testing.T) {
	f := newFixture(t)
	col := f.collateral(t)
	v := f.verifier()
	m1, err1 := v.Verify(f.quote, col, f.rd, f.now)
	m2, err2 := v.Verify(f.quote, col, f.rd, f.now)
	if err1 != nil || err2 != nil || !m1.Equal(m2) || m1.Hash() != m2.Hash() {
		t.Fatalf("%v %v %v %v", m1, m2, err1, err2)
	}
	_, errLate := v.Verify(f.quote, col, f.rd, f.now+100*24*3600)
	_, errLate2 := v.Verify(f.quote, col, f.rd, f.now+100*24*3600)
	if !errors.Is(errLate, ErrCollateralExpired) || errLate.Error() != errLate2.Error() {
		t.Fatalf("late: %v / %v", errLate, errLate2)
	}
}

func TestConverge(t *testing.T) {
	for _, tc := range []struct {
		in   []TCBStatus
		want TCBStatus
	}{
		{[]TCBStatus{TCBUpToDate, TCBUpToDate}, TCBUpToDate},
		{[]TCBStatus{TCBSWHardeningNeeded, TCBUpToDate}, TCBSWHardeningNeeded},
		{[]TCBStatus{TCBSWHardeningNeeded, TCBConfigurationNeeded}, TCBConfigurationAndSWHardeningNeeded},
		{[]TCBStatus{TCBSWHardeningNeeded, TCBOutOfDate}, TCBOutOfDate},
		{[]TCBStatus{TCBConfigurationAndSWHardeningNeeded, TCBOutOfDate}, TCBOutOfDateConfigurationNeeded},
		{[]TCBStatus{TCBOutOfDateConfigurationNeeded, TCBUpToDate}, TCBOutOfDateConfigurationNeeded},
		{[]TCBStatus{TCBOutOfDate, TCBRevoked}, TCBRevoked},
	} {
		if got, err := converge(tc.in...); err != nil || got != tc.want {
			t.Errorf("converge(%v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := converge(TCBUpToDate, "Bogus"); !errors.Is(err, ErrTCBUnrecognized) {
		t.Errorf("unknown status: %v", err)
	}
}

func TestIntelRootPinned(t *testing.T) {
	v := NewVerifier(Policy{})
	if v.root.Subject.CommonName != cnRoot {
		t.Fatalf("root %q", v.root.Subject.CommonName)
	}
	const fp = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
	if got := sha256Hex(v.root.Raw); got != fp {
		t.Fatalf("embedded Intel root fingerprint %s, want %s", got, fp)
	}
}

// BenchmarkVerify measures one full verification (synthetic chain, CRLs
// included): the registry charges RegisterWorkerWeight for it.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	col := f.w.withCRLs(b, f.w.collateral(b, f.info, f.qe), nil, nil).Encode()
	v := f.verifier()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(f.quote, col, f.rd, f.now); err != nil {
			b.Fatal(err)
		}
	}
}
