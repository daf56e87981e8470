package phat

import (
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

// MethodSetSystemContract is phat.set_system_contract(cluster [u8;32],
// contract [u8;32]): the cluster's owner (or root, through admin.sudo)
// names an instantiated contract of the cluster its system contract, as
// Phala deploys one per cluster. The pink extension's system_contract_id
// answers it, and its SetHook events may hook any contract of the cluster.
const MethodSetSystemContract uint8 = 7

// SetSystemContractWeight is phat.set_system_contract's weight.
const SetSystemContractWeight = 50_000

// PrefixSystemContract keys a cluster's system contract (a record of its
// own, so that the cluster record's format stays).
var PrefixSystemContract = []byte("phat/system_contract/")

// SetSystemContractCall builds phat.set_system_contract.
func SetSystemContractCall(cluster, contract [32]byte) tx.Call {
	return tx.Call{Module: Index, Method: MethodSetSystemContract, Args: append(slices.Clone(cluster[:]), contract[:]...)}
}

func decodeSetSystem(args []byte) (cluster, contract [32]byte, err error) {
	if len(args) != 64 {
		return cluster, contract, fmt.Errorf("phat.set_system_contract: argument of %d bytes, want 64", len(args))
	}
	return [32]byte(args[:32]), [32]byte(args[32:]), nil
}

func checkSetSystem(args []byte) error { _, _, err := decodeSetSystem(args); return err }

func execSetSystem(c *state.CallCtx, args []byte) (uint32, string, error) {
	id, ct, err := decodeSetSystem(args)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	cl, ok, err := GetCluster(c.Overlay(), id)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", id), nil
	}
	if !c.IsRoot() && c.Signer() != cl.Owner {
		return state.CodeClusterPermission, fmt.Sprintf("only cluster %x's owner %s sets its system contract", id, cl.Owner.Hex()), nil
	}
	k, ok, err := GetContract(c.Overlay(), ct)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownContract, fmt.Sprintf("no contract %x", ct), nil
	}
	if k.Cluster != id {
		return state.CodeWrongCluster, fmt.Sprintf("contract %x is in cluster %x, not %x", ct, k.Cluster, id), nil
	}
	if k.State != ContractInstantiated {
		return state.CodeContractNotReady, fmt.Sprintf("contract %x is %s", ct, ContractStateName(k.State)), nil
	}
	c.Overlay().SetOwned(clusterSuffixed(PrefixSystemContract, id), slices.Clone(ct[:]))
	c.AddEvent(state.Event{Type: "cluster_system_contract", Attributes: []state.EventAttribute{
		{Key: "cluster", Value: "0x" + hex.EncodeToString(id[:]), Index: true},
		{Key: "contract", Value: "0x" + hex.EncodeToString(ct[:]), Index: true}}})
	return state.CodeOK, "", nil
}

// SystemContract returns a cluster's system contract (zero: none).
func SystemContract(st state.Store, id [32]byte) ([32]byte, error) {
	v, err := st.Get(clusterSuffixed(PrefixSystemContract, id))
	if err != nil {
		return [32]byte{}, fmt.Errorf("state: reading system contract: %w", err)
	}
	if v == nil {
		return [32]byte{}, nil
	}
	if len(v) != 32 {
		return [32]byte{}, fmt.Errorf("%w: system contract of cluster %x", state.ErrCorruptState, id)
	}
	return [32]byte(v), nil
}
