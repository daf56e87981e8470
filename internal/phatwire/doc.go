// Package phatwire holds the wire formats of Phat-contract queries and
// commands, byte-compatible with Phala's pRuntime and @phala/sdk 0.5.10:
//
//   - ContractQuery (head + Query enum) and ContractQueryResponse (the SDK's
//     InkResponse), the SCALE plaintexts of a pRPC ContractQuery;
//   - CertificateBody, Certificate and Signature with pRuntime's
//     signature-chain verification (Signature.Verify, VerifyCache) and a
//     signer side (IssueCertificate, SignQuery);
//   - InkCommand and CommandPayload, the payload of push_contract_message;
//   - ContractExecResult and ContractInstantiateResult as the SDK decodes the
//     bytes an InkMessageReturn carries.
//
// The protobuf envelopes (ContractQueryRequest, Certificate, Signature,
// PhactoryInfo, PrpcError) live in the sub-package prpcpb, which also
// converts between them and these types.
//
// The package is pure: no I/O, clock, network or randomness (IVs, nonces and
// signing keys come from the caller). Every decoder takes hostile input: it
// never panics, allocates no more than the input's size, rejects trailing
// bytes and reports errors that wrap ErrMalformed.
package phatwire
