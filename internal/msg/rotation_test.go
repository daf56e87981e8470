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
	if err := scale.Decode(scale.Encode(&ContractKeys{Epoch: 1}), &got); err != nil || len(got.Keys) != 0 {
		t.Fatalf("no keys: %+v %v", got, err)
	}
	var h ClusterKeyHistory
	okh := ClusterKeyHistory{Cluster: [32]byte{1}, Worker: [32]byte{2}, Keys: []EpochKey{{Epoch: 0}, {Epoch: 3}}}
	for i := range okh.Keys {
		okh.Keys[i].Key.EncryptedKey = make([]byte, 80)
	}
	if err := scale.Decode(scale.Encode(&okh), &h); err != nil || len(h.Keys) != 2 || h.Keys[1].Epoch != 3 {
		t.Fatalf("%+v %v", h, err)
	}
	for name, p := range map[string]ClusterKeyHistory{
		"empty":     {},
		"unsorted":  {Keys: []EpochKey{{Epoch: 3}, {Epoch: 1}}},
		"duplicate": {Keys: []EpochKey{{Epoch: 1}, {Epoch: 1}}},
	} {
		if err := scale.Decode(scale.Encode(&p), &ClusterKeyHistory{}); err == nil {
			t.Errorf("history %s: decoded", name)
		}
	}
	var mh MasterKeyHistory
	okm := MasterKeyHistory{Receiver: [32]byte{2}, Keys: okh.Keys}
	if err := scale.Decode(scale.Encode(&okm), &mh); err != nil || len(mh.Keys) != 2 || mh.Receiver != okm.Receiver {
		t.Fatalf("%+v %v", mh, err)
	}
	if err := scale.Decode(scale.Encode(&MasterKeyHistory{}), &mh); err == nil {
		t.Error("empty master history decoded")
	}
	var r ClusterRekeyed
	if err := scale.Decode(scale.Encode(&ClusterRekeyed{Cluster: [32]byte{7}, Epoch: 2}), &r); err != nil || r.Epoch != 2 || r.Cluster[0] != 7 {
		t.Fatalf("%+v %v", r, err)
	}
}
