package sdk_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cella-network/cella/sdk"
)

// Deploy a contract from an ink! .contract bundle and wait until its
// cluster has instantiated it.
func ExampleClient_Instantiate() {
	ctx := context.Background()
	c, err := sdk.Connect("http://127.0.0.1:26657")
	if err != nil {
		log.Fatal(err)
	}
	alice, err := sdk.KeyFromURI("//Alice")
	if err != nil {
		log.Fatal(err)
	}
	md, err := sdk.LoadMetadata("flipper.contract")
	if err != nil {
		log.Fatal(err)
	}
	hash, _, err := c.Upload(ctx, alice, md.Code(), sdk.UploadOptions{Cluster: sdk.ClusterID(0), TxOptions: sdk.TxOptions{Wait: true}})
	if err != nil {
		log.Fatal(err)
	}
	data, err := md.EncodeConstructor("new", "false")
	if err != nil {
		log.Fatal(err)
	}
	addr, res, err := c.Instantiate(ctx, alice, hash, data, sdk.InstantiateOptions{Cluster: sdk.ClusterID(0), TxOptions: sdk.TxOptions{Wait: true}})
	if err != nil || res.Err() != nil {
		log.Fatal(err, res.Err())
	}
	ci, err := c.WaitContract(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(addr, ci.State)
}

// Send an encrypted command, then read the contract with a signed query.
func ExampleClient_Query() {
	ctx := context.Background()
	c, _ := sdk.Connect(sdk.DefaultNodeURL)
	alice, _ := sdk.KeyFromURI("//Alice")
	md, _ := sdk.LoadMetadata("flipper.json")
	addr, _ := sdk.ParseAddress("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty")

	flip, _ := md.EncodeMessage("flip")
	res, err := c.Call(ctx, alice, addr, flip, sdk.CallOptions{GasLimit: 1_000_000_000, TxOptions: sdk.TxOptions{Wait: true}})
	if err != nil || res.Err() != nil {
		log.Fatal(err, res.Err())
	}
	o, err := c.WaitOutcome(ctx, res)
	if err != nil {
		log.Fatal(err)
	}

	// A worker of the contract's cluster, from the chain's registry.
	w, err := c.ContractWorker(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	// What the command did, readable by its sender only.
	if r, err := c.CommandResult(ctx, alice, w, o); err != nil || !r.Success() {
		log.Fatal(err, r)
	}
	get, _ := md.EncodeMessage("get")
	r, err := c.Query(ctx, alice, w, addr, get, sdk.QueryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := md.DecodeReturn("get", r.Output)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(v))
}

// Contract addresses are computed before instantiation.
func ExampleContractAddress() {
	alice, _ := sdk.KeyFromURI("//Alice")
	code := []byte("\x00asm\x01\x00\x00\x00")
	addr := sdk.ContractAddress(alice.Address(), sdk.CodeHash(code), sdk.ClusterID(0), []byte("salt"))
	fmt.Println(len(addr.Hex()))
	// Output: 66
}

// Transfer erc20 tokens with an encrypted command and read a balance on
// two workers of the cluster: every worker of a cluster answers alike.
func ExampleClient_Call_erc20() {
	ctx := context.Background()
	c, err := sdk.Connect(sdk.DefaultNodeURL)
	if err != nil {
		log.Fatal(err)
	}
	alice, _ := sdk.KeyFromURI("//Alice")
	bob, _ := sdk.KeyFromURI("//Bob")
	md, err := sdk.LoadMetadata("erc20.json")
	if err != nil {
		log.Fatal(err)
	}
	token, _ := sdk.ParseAddress("5Ee96b1v8urDHDPFe1Ni2Akps84nWRSDcwWgfsNAXPUcDvt9")

	// Encrypted to the contract's key (CallOptions.Plain sends it in clear).
	transfer, err := md.EncodeMessage("transfer", bob.Address().String(), "250")
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Call(ctx, alice, token, transfer, sdk.CallOptions{GasLimit: 10_000_000_000, TxOptions: sdk.TxOptions{Wait: true}})
	if err != nil || res.Err() != nil {
		log.Fatal(err, res.Err())
	}
	o, err := c.WaitOutcome(ctx, res) // the cluster ran it; the unused gas is refunded
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("gas used", o.GasUsed)

	balanceOf, _ := md.EncodeMessage("balance_of", bob.Address().String())
	for _, url := range []string{sdk.DefaultWorkerURL, "http://127.0.0.1:8001"} {
		w, err := c.Worker(ctx, url)
		if err != nil {
			log.Fatal(err)
		}
		r, err := c.Query(ctx, bob, w, token, balanceOf, sdk.QueryOptions{})
		if err != nil {
			log.Fatal(err)
		}
		v, _ := md.DecodeReturn("balance_of", r.Output)
		fmt.Println(url, string(v))
	}
}
