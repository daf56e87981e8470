package pruntime

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
)

// Limits of one Sync request, checked on the wire format before anything
// is unmarshalled, so that a request costs memory in proportion to its
// bytes, never to the entries it claims.
const (
	// MaxHeaderBytes bounds one encoded header (a CometBFT header is under
	// a kilobyte).
	MaxHeaderBytes = 64 << 10
	// MaxBatchRecords bounds the block records of one batch: one per
	// header, plus the block the batch's first header confirms.
	MaxBatchRecords = MaxBatchHeaders + 1
	// MaxCommitBytes and MaxValidatorsBytes bound the commit and the
	// validator set of a batch.
	MaxCommitBytes     = 16 << 20
	MaxValidatorsBytes = 16 << 20
)

// Limits of the public API: its requests are empty but for queries
// (connectQueryBody; pRPC methods bound their own bodies).
const (
	publicMaxBodyBytes = 16 << 10
)

// syncConcurrency is how many Sync requests are read and verified at once;
// the others wait for their turn (the runtime applies one at a time anyway).
const syncConcurrency = 1

// scanSync checks an encoded SyncRequest's field counts and sizes.
func scanSync(b []byte) error {
	var headers, records, fields int
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("malformed request: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if fields++; fields > MaxBatchHeaders+MaxBatchRecords+16 {
			return errors.New("too many fields")
		}
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("malformed request: %w", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("malformed request: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch num {
		case 1:
			if headers++; headers > MaxBatchHeaders {
				return fmt.Errorf("more than %d headers in one batch", MaxBatchHeaders)
			}
			if len(v) > MaxHeaderBytes {
				return fmt.Errorf("header %d is %d bytes, at most %d", headers-1, len(v), MaxHeaderBytes)
			}
		case 2:
			if len(v) > MaxCommitBytes {
				return fmt.Errorf("commit is %d bytes, at most %d", len(v), MaxCommitBytes)
			}
		case 3:
			if len(v) > MaxValidatorsBytes {
				return fmt.Errorf("validator set is %d bytes, at most %d", len(v), MaxValidatorsBytes)
			}
		case 4:
			if records++; records > MaxBatchRecords {
				return fmt.Errorf("more than %d block records in one batch", MaxBatchRecords)
			}
		}
	}
	return nil
}

// checkedCodec is the binary protobuf codec of the internal API: it
// checks a Sync request's counts and sizes on the wire before unmarshalling.
type checkedCodec struct{}

func (checkedCodec) Name() string { return "proto" }

func (checkedCodec) Marshal(m any) ([]byte, error) {
	pm, ok := m.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a protobuf message", m)
	}
	return proto.Marshal(pm)
}

func (checkedCodec) Unmarshal(b []byte, m any) error {
	pm, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a protobuf message", m)
	}
	if _, ok := m.(*pruntimev1.SyncRequest); ok {
		if err := scanSync(b); err != nil {
			return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("sync: %w", err))
		}
	}
	return proto.Unmarshal(b, pm)
}

// refusingCodec stands in for the JSON codec on the internal API: JSON
// costs far more memory per byte received than the binary encoding.
type refusingCodec struct{}

func (refusingCodec) Name() string { return "json" }
func (refusingCodec) Marshal(any) ([]byte, error) {
	return nil, errors.New("the internal API speaks binary protobuf only")
}
func (refusingCodec) Unmarshal([]byte, any) error {
	return connect.NewError(connect.CodeInvalidArgument, errors.New("the internal API speaks binary protobuf only"))
}

// internalOptions are the connect options of the internal API: binary
// protobuf only, no compression (a small compressed body can expand a
// thousandfold), messages of at most MaxRequestBytes.
func internalOptions() connect.HandlerOption {
	return connect.WithHandlerOptions(
		connect.WithCodec(checkedCodec{}),
		connect.WithCodec(refusingCodec{}),
		connect.WithCompression("gzip", nil, nil),
		connect.WithReadMaxBytes(MaxRequestBytes),
	)
}

// guardInternal refuses, before reading the body, compressed or non-binary
// requests and bodies larger than a request may be; and it lets at most
// syncConcurrency Sync requests proceed at once.
func guardInternal(h http.Handler) http.Handler {
	syncs := make(chan struct{}, syncConcurrency)
	syncPath := pruntimev1connect.InternalSyncProcedure
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, hdr := range []string{"Content-Encoding", "Connect-Content-Encoding", "Grpc-Encoding"} {
			if v := r.Header.Get(hdr); v != "" && v != "identity" {
				http.Error(w, "the internal API refuses compressed requests ("+hdr+": "+v+")", http.StatusUnsupportedMediaType)
				return
			}
		}
		switch ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) {
		case "application/proto", "application/connect+proto", "application/grpc", "application/grpc+proto",
			"application/grpc-web", "application/grpc-web+proto":
		default:
			http.Error(w, "the internal API speaks binary protobuf only (Content-Type "+ct+")", http.StatusUnsupportedMediaType)
			return
		}
		// The message plus a gRPC envelope.
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes+64)
		if r.URL.Path == syncPath {
			select {
			case syncs <- struct{}{}:
				defer func() { <-syncs }()
			case <-r.Context().Done():
				http.Error(w, "gave up waiting for another Sync to finish", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// guardPublic bounds the public API's request bodies (compressed or not):
// a query may carry up to connectQueryBody, pRPC methods their own limits,
// everything else publicMaxBodyBytes.
func guardPublic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(publicMaxBodyBytes)
		switch {
		case r.URL.Path == pruntimev1connect.PublicQueryProcedure:
			limit = connectQueryBody + 64
		case strings.HasPrefix(r.URL.Path, PrpcPrefix):
			limit = prpcContractQueryBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}
