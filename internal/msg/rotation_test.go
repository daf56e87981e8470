package msg

import (
	"testing"

	"github.com/cella-network/cella/internal/scale"
)

func TestContractKeysDecode(t *testing.T) {
	ok := ContractKeys{Epoch: 3, Keys: []ContractKey{{Contract: [32]byte{1}, Pubkey: [32]byte{9}}, {Contract: [32]byte{2}}}}
	var got ContractKeys
	if err := scale.Decode(scale.Encode(&ok), &got); err != nil || got.Epoch != 3 || len(got.Keys) != 2 || got.Keys[0] != ok.Keys[0] {
		t.Fatalf("%+v %v", got, err)
	}
	many := ContractKeys{}
	for i := 0; i <= MaxContractKeysPerMessage; i++ {
		many.Keys = append(many.Keys, ContractKey{Contract: [32]byte{byte(i >> 8), byte(i)}})
	}
	for name, p := range map[string]ContractKeys{
		"empty":     {Epoch: 1},
		"unsorted":  {Keys: []ContractKey{{Contract: [32]byte{2}}, {Contract: [32]byte{1}}}},
		"duplicate": {Keys: []ContractKey{{Contract: [32]byte{2}}, {Contract: [32]byte{2}}}},
		"too many":  many,
	} {
		if err := scale.Decode(scale.Encode(&p), &ContractKeys{}); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if err := scale.Decode(scale.Encode(&ok)[:40], &ContractKeys{}); err == nil {
		t.Error("truncated: decoded")
	}
	var r ClusterRekeyed
	if err := scale.Decode(scale.Encode(&ClusterRekeyed{Cluster: [32]byte{7}, Epoch: 2}), &r); err != nil || r.Epoch != 2 || r.Cluster[0] != 7 {
		t.Fatalf("%+v %v", r, err)
	}
}
