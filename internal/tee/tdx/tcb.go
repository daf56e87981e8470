package tdx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-tdx-guest/pcs"
)

// TCBStatus is Intel's verdict on a platform's trusted computing base, as
// the TCB info and QE identity name it.
type TCBStatus string

// TCB statuses, from best to worst.
const (
	TCBUpToDate                          TCBStatus = "UpToDate"
	TCBSWHardeningNeeded                 TCBStatus = "SWHardeningNeeded"
	TCBConfigurationNeeded               TCBStatus = "ConfigurationNeeded"
	TCBConfigurationAndSWHardeningNeeded TCBStatus = "ConfigurationAndSWHardeningNeeded"
	TCBOutOfDate                         TCBStatus = "OutOfDate"
	TCBOutOfDateConfigurationNeeded      TCBStatus = "OutOfDateConfigurationNeeded"
	TCBRevoked                           TCBStatus = "Revoked"
)

// Errors of TCB evaluation.
var (
	// ErrTCBUnrecognized means the TCB info does not describe the quote's
	// TDX module version, or names a status this verifier does not know.
	ErrTCBUnrecognized = errors.New("tdx: TCB not recognised by the collateral")
	// ErrTCBOutOfDate means the TCB status is OutOfDate or
	// OutOfDateConfigurationNeeded: the platform lacks security fixes.
	ErrTCBOutOfDate = errors.New("tdx: platform TCB is out of date")
	// ErrTCBRevoked means the TCB status is Revoked.
	ErrTCBRevoked = errors.New("tdx: platform TCB is revoked")
	// ErrTCBNotAccepted means the TCB status is SWHardeningNeeded,
	// ConfigurationNeeded or ConfigurationAndSWHardeningNeeded and the
	// policy does not accept it.
	ErrTCBNotAccepted = errors.New("tdx: platform TCB status not accepted by policy")
	// ErrTDXModuleMismatch means the quote's TDX module (MRSIGNERSEAM,
	// SEAMATTRIBUTES) is not the one the TCB info describes.
	ErrTDXModuleMismatch = errors.New("tdx: TDX module does not match the TCB info")
	// ErrQEIdentityMismatch means the quoting enclave's report does not match
	// the QE identity (MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES).
	ErrQEIdentityMismatch = errors.New("tdx: quoting enclave does not match the QE identity")
)

// TCBStatusError reports a TCB status that the policy refuses. It wraps
// ErrTCBOutOfDate, ErrTCBRevoked or ErrTCBNotAccepted.
type TCBStatusError struct {
	Status      TCBStatus
	AdvisoryIDs []string
	err         error
}

func (e *TCBStatusError) Error() string {
	if len(e.AdvisoryIDs) == 0 {
		return fmt.Sprintf("%v: %s", e.err, e.Status)
	}
	return fmt.Sprintf("%v: %s (advisories %s)", e.err, e.Status, strings.Join(e.AdvisoryIDs, ", "))
}

// Unwrap returns the sentinel error.
func (e *TCBStatusError) Unwrap() error { return e.err }

// Policy is the chain's TCB policy. The zero value is the strictest: only
// UpToDate platforms, CRLs optional, any TCB evaluation data number. On a
// chain it is a governed parameter.
type Policy struct {
	// AllowSWHardeningNeeded accepts SWHardeningNeeded: the platform is
	// patched but some vulnerabilities need software mitigations that Intel
	// cannot see from the quote (the TD's own code must carry them).
	AllowSWHardeningNeeded bool
	// AllowConfigurationNeeded accepts ConfigurationNeeded: the platform is
	// patched but its BIOS configuration (for example hyper-threading or
	// memory integrity settings) leaves it exposed to advisories. With
	// AllowSWHardeningNeeded it also accepts ConfigurationAndSWHardeningNeeded.
	AllowConfigurationNeeded bool
	// RequireCRLs refuses collateral without the root CA CRL and the PCK CRL.
	// Without CRLs a revoked PCK certificate or TCB signing key goes
	// unnoticed.
	RequireCRLs bool
	// MinTCBEvaluationDataNumber refuses TCB info and QE identity older than
	// this TCB recovery event (0: any). Raising it forces workers onto the
	// collateral issued after a TCB recovery.
	MinTCBEvaluationDataNumber uint32
}

// accept applies the policy to a final status.
func (p Policy) accept(s TCBStatus, advisories []string) error {
	var sentinel error
	switch s {
	case TCBUpToDate:
		return nil
	case TCBSWHardeningNeeded:
		if p.AllowSWHardeningNeeded {
			return nil
		}
		sentinel = ErrTCBNotAccepted
	case TCBConfigurationNeeded:
		if p.AllowConfigurationNeeded {
			return nil
		}
		sentinel = ErrTCBNotAccepted
	case TCBConfigurationAndSWHardeningNeeded:
		if p.AllowConfigurationNeeded && p.AllowSWHardeningNeeded {
			return nil
		}
		sentinel = ErrTCBNotAccepted
	case TCBOutOfDate, TCBOutOfDateConfigurationNeeded:
		sentinel = ErrTCBOutOfDate
	case TCBRevoked:
		sentinel = ErrTCBRevoked
	default:
		sentinel = ErrTCBUnrecognized
	}
	return &TCBStatusError{Status: s, AdvisoryIDs: advisories, err: sentinel}
}

// Status flags: a status is a set of findings, and combining the platform's,
// the TDX module's and the quoting enclave's statuses is the union of their
// findings (Intel's QVL converges them the same way).
const (
	flagSW = 1 << iota
	flagConfig
	flagOutOfDate
	flagRevoked
)

func statusFlags(s TCBStatus) (int, bool) {
	switch s {
	case TCBUpToDate:
		return 0, true
	case TCBSWHardeningNeeded:
		return flagSW, true
	case TCBConfigurationNeeded:
		return flagConfig, true
	case TCBConfigurationAndSWHardeningNeeded:
		return flagConfig | flagSW, true
	case TCBOutOfDate:
		return flagOutOfDate, true
	case TCBOutOfDateConfigurationNeeded:
		return flagOutOfDate | flagConfig, true
	case TCBRevoked:
		return flagRevoked, true
	}
	return 0, false
}

func statusOf(f int) TCBStatus {
	switch {
	case f&flagRevoked != 0:
		return TCBRevoked
	case f&flagOutOfDate != 0 && f&flagConfig != 0:
		return TCBOutOfDateConfigurationNeeded
	case f&flagOutOfDate != 0:
		return TCBOutOfDate
	case f&flagConfig != 0 && f&flagSW != 0:
		return TCBConfigurationAndSWHardeningNeeded
	case f&flagConfig != 0:
		return TCBConfigurationNeeded
	case f&flagSW != 0:
		return TCBSWHardeningNeeded
	}
	return TCBUpToDate
}

// converge combines statuses; an unknown status makes the result unknown.
func converge(statuses ...TCBStatus) (TCBStatus, error) {
	all := 0
	for _, s := range statuses {
		f, ok := statusFlags(s)
		if !ok {
			return "", fmt.Errorf("%w: unknown TCB status %q", ErrTCBUnrecognized, s)
		}
		all |= f
	}
	return statusOf(all), nil
}

// tcbResult is the outcome of a TCB evaluation.
type tcbResult struct {
	platform, module, qe TCBStatus
	status               TCBStatus
	advisories           []string
}

// pckTCB is what the PCK certificate says about the platform.
type pckTCB struct {
	fmspc, pceID string // lower-case hex
	cpuSVN       [16]byte
	pceSVN       uint16
}

// evaluatePlatform finds the first TCB level (Intel lists them from newest
// to oldest) that the platform's SGX components, PCE SVN and TEE_TCB_SVN all
// reach. When TEE_TCB_SVN[1] (the TDX module's minor version) is not zero,
// the first two TDX components (the module's SVN and version) are judged by
// the TDX module identity instead, as Intel's QVL does. A platform below
// every listed level lacks even the oldest fixes Intel describes: its status
// is OutOfDate.
func evaluatePlatform(levels []pcs.TcbLevel, pck pckTCB, teeTCBSVN [16]byte) (pcs.TcbLevel, error) {
	start := 0
	if teeTCBSVN[1] != 0 {
		start = 2
	}
	for i, l := range levels {
		sgx, tdx := l.Tcb.SgxTcbcomponents, l.Tcb.TdxTcbcomponents
		if len(sgx) != 16 || len(tdx) != 16 {
			return pcs.TcbLevel{}, fmt.Errorf("%w: TCB level %d has %d SGX and %d TDX components, want 16 each", ErrMalformedCollateral, i, len(sgx), len(tdx))
		}
		if pck.pceSVN < l.Tcb.Pcesvn {
			continue
		}
		ok := true
		for j := 0; j < 16 && ok; j++ {
			ok = pck.cpuSVN[j] >= sgx[j].Svn
		}
		for j := start; j < 16 && ok; j++ {
			ok = teeTCBSVN[j] >= tdx[j].Svn
		}
		if ok {
			return l, nil
		}
	}
	return pcs.TcbLevel{TcbStatus: pcs.TcbComponentStatusOutOfDate}, nil
}

// matchMasked reports whether value & mask == want, byte by byte (Intel
// compares the masked report field with the identity's value as given).
func matchMasked(value, want, mask []byte) bool {
	if len(value) != len(want) || len(value) != len(mask) {
		return false
	}
	for i := range value {
		if value[i]&mask[i] != want[i] {
			return false
		}
	}
	return true
}

// evaluateModule checks the quote's TDX module against the TCB info. For
// module version 0 (TDX 1.0) it checks MRSIGNERSEAM and SEAMATTRIBUTES
// against "tdxModule" and returns no separate status (the module's SVN is
// one of the platform level's TDX components). For later versions it uses
// the "tdxModuleIdentities" entry "TDX_<version, 2 hex digits>" and its TCB
// levels, keyed by the module's SVN (TEE_TCB_SVN[0]); a module below every
// level is OutOfDate.
func evaluateModule(info *pcs.TcbInfo, body *TDQuoteBody) (*pcs.TcbLevel, error) {
	version := body.TEETCBSVN[1]
	mrsigner, attrs, mask := info.TdxModule.Mrsigner.Bytes, info.TdxModule.Attributes.Bytes, info.TdxModule.AttributesMask.Bytes
	var ident *pcs.TdxModuleIdentity
	if version != 0 {
		id := fmt.Sprintf("TDX_%02X", version)
		for i := range info.TdxModuleIdentities {
			if strings.EqualFold(info.TdxModuleIdentities[i].ID, id) {
				ident = &info.TdxModuleIdentities[i]
				break
			}
		}
		if ident == nil {
			return nil, fmt.Errorf("%w: TCB info lists no TDX module identity %s", ErrTCBUnrecognized, id)
		}
		mrsigner, attrs, mask = ident.Mrsigner.Bytes, ident.Attributes.Bytes, ident.AttributesMask.Bytes
	}
	if len(mrsigner) != 48 || len(attrs) != 8 || len(mask) != 8 {
		return nil, fmt.Errorf("%w: TDX module identity field sizes", ErrMalformedCollateral)
	}
	if !bytes.Equal(mrsigner, body.MRSIGNERSEAM[:]) {
		return nil, fmt.Errorf("%w: MRSIGNERSEAM %x", ErrTDXModuleMismatch, body.MRSIGNERSEAM)
	}
	if !matchMasked(body.SEAMAttributes[:], attrs, mask) {
		return nil, fmt.Errorf("%w: SEAMATTRIBUTES %x", ErrTDXModuleMismatch, body.SEAMAttributes)
	}
	if ident == nil {
		return nil, nil
	}
	svn := uint32(body.TEETCBSVN[0])
	for i := range ident.TcbLevels {
		if svn >= ident.TcbLevels[i].Tcb.Isvsvn {
			return &ident.TcbLevels[i], nil
		}
	}
	return &pcs.TcbLevel{TcbStatus: pcs.TcbComponentStatusOutOfDate}, nil // below every level
}

// evaluateQE checks the quoting enclave's report against the QE identity
// and returns the TCB level of its ISVSVN (OutOfDate below every level).
func evaluateQE(id *pcs.EnclaveIdentity, r *EnclaveReport) (pcs.TcbLevel, error) {
	if len(id.Mrsigner.Bytes) != 32 || len(id.Attributes.Bytes) != 16 || len(id.AttributesMask.Bytes) != 16 ||
		len(id.Miscselect.Bytes) != 4 || len(id.MiscselectMask.Bytes) != 4 {
		return pcs.TcbLevel{}, fmt.Errorf("%w: QE identity field sizes", ErrMalformedCollateral)
	}
	if !bytes.Equal(id.Mrsigner.Bytes, r.MRSIGNER[:]) {
		return pcs.TcbLevel{}, fmt.Errorf("%w: MRSIGNER %x", ErrQEIdentityMismatch, r.MRSIGNER)
	}
	if uint32(r.ISVProdID) != uint32(id.IsvProdID) {
		return pcs.TcbLevel{}, fmt.Errorf("%w: ISVPRODID %d, want %d", ErrQEIdentityMismatch, r.ISVProdID, id.IsvProdID)
	}
	// MISCSELECT is a number; the identity writes it as big-endian hex.
	misc := binary.BigEndian.Uint32(id.Miscselect.Bytes)
	miscMask := binary.BigEndian.Uint32(id.MiscselectMask.Bytes)
	if r.MiscSelect&miscMask != misc {
		return pcs.TcbLevel{}, fmt.Errorf("%w: MISCSELECT %#x", ErrQEIdentityMismatch, r.MiscSelect)
	}
	if !matchMasked(r.Attributes[:], id.Attributes.Bytes, id.AttributesMask.Bytes) {
		return pcs.TcbLevel{}, fmt.Errorf("%w: ATTRIBUTES %x", ErrQEIdentityMismatch, r.Attributes)
	}
	for _, l := range id.TcbLevels {
		if uint32(r.ISVSVN) >= l.Tcb.Isvsvn {
			return l, nil
		}
	}
	return pcs.TcbLevel{TcbStatus: pcs.TcbComponentStatusOutOfDate}, nil // below every level
}

// evaluateTCB runs the three evaluations and converges their statuses.
func evaluateTCB(info *pcs.TcbInfo, qe *pcs.EnclaveIdentity, pck pckTCB, q *Quote) (*tcbResult, error) {
	plat, err := evaluatePlatform(info.TcbLevels, pck, q.Body.TEETCBSVN)
	if err != nil {
		return nil, err
	}
	mod, err := evaluateModule(info, &q.Body)
	if err != nil {
		return nil, err
	}
	qeLevel, err := evaluateQE(qe, &q.QEReport)
	if err != nil {
		return nil, err
	}
	res := &tcbResult{platform: TCBStatus(plat.TcbStatus), qe: TCBStatus(qeLevel.TcbStatus)}
	adv := append(slices.Clone(plat.AdvisoryIDs), qeLevel.AdvisoryIDs...)
	statuses := []TCBStatus{res.platform, res.qe}
	if mod != nil {
		res.module = TCBStatus(mod.TcbStatus)
		statuses = append(statuses, res.module)
		adv = append(adv, mod.AdvisoryIDs...)
	}
	if res.status, err = converge(statuses...); err != nil {
		return nil, err
	}
	slices.Sort(adv)
	res.advisories = slices.Compact(adv)
	return res, nil
}
