#!/usr/bin/env python3
"""Writes the hand-written ink!-style metadata of the test contracts.

The JSON is committed; this script only documents how it was produced and
keeps the type registries consistent. Run: python3 genmeta.py
"""
import hashlib, json

def sel(name):
    return "0x" + hashlib.blake2b(name.encode(), digest_size=32).digest()[:4].hex()

class Reg:
    def __init__(self):
        self.types = []
        self.ids = {}
    def add(self, key, ty):
        if key in self.ids:
            return self.ids[key]
        i = len(self.types)
        self.ids[key] = i
        self.types.append({"id": i, "type": ty})
        return i
    def prim(self, p):
        return self.add(p, {"def": {"primitive": p}})
    def unit(self):
        return self.add("()", {"def": {"tuple": []}})
    def lang_error(self):
        return self.add("LangError", {"def": {"variant": {"variants": [{"index": 1, "name": "CouldNotReadInput"}]}},
                                      "path": ["ink_primitives", "LangError"]})
    def result(self, ok, err):
        return self.add(("Result", ok, err), {"def": {"variant": {"variants": [
            {"fields": [{"type": ok}], "index": 0, "name": "Ok"},
            {"fields": [{"type": err}], "index": 1, "name": "Err"}]}},
            "params": [{"name": "T", "type": ok}, {"name": "E", "type": err}], "path": ["Result"]})
    def option(self, t):
        return self.add(("Option", t), {"def": {"variant": {"variants": [
            {"index": 0, "name": "None"}, {"fields": [{"type": t}], "index": 1, "name": "Some"}]}},
            "params": [{"name": "T", "type": t}], "path": ["Option"]})
    def bytes32(self):
        u8 = self.prim("u8")
        return self.add("[u8;32]", {"def": {"array": {"len": 32, "type": u8}}})
    def account(self):
        a = self.bytes32()
        return self.add("AccountId", {"def": {"composite": {"fields": [{"type": a, "typeName": "[u8; 32]"}]}},
                                      "path": ["ink_primitives", "types", "AccountId"]})
    def hash(self):
        a = self.bytes32()
        return self.add("Hash", {"def": {"composite": {"fields": [{"type": a, "typeName": "[u8; 32]"}]}},
                                   "path": ["ink_primitives", "types", "Hash"]})

def ty(t, name):
    return {"displayName": [name], "type": t}

def arg(label, t, name):
    return {"label": label, "type": ty(t, name)}

def env(r):
    return {"accountId": ty(r.account(), "AccountId"), "balance": ty(r.prim("u128"), "Balance"),
            "blockNumber": ty(r.prim("u32"), "BlockNumber"), "chainExtension": ty(r.unit(), "ChainExtension"),
            "hash": ty(r.hash(), "Hash"), "maxEventTopics": 4, "timestamp": ty(r.prim("u64"), "Timestamp")}

def ctor(r, label, args, ret=None):
    ret = ret if ret is not None else r.unit()
    return {"args": args, "default": False, "docs": [], "label": label, "payable": False,
            "returnType": ty(r.result(ret, r.lang_error()), "ink_primitives::ConstructorResult"),
            "selector": sel(label)}

def msg(r, label, args, ret, mutates=True):
    return {"args": args, "default": False, "docs": [], "label": label, "mutates": mutates, "payable": False,
            "returnType": ty(r.result(ret, r.lang_error()), "ink::MessageResult"), "selector": sel(label)}

def meta(name, r, ctors, msgs, events=None, version=4):
    spec = {"constructors": ctors, "docs": [], "environment": env(r), "events": events or [],
            "lang_error": ty(r.lang_error(), "ink::LangError"), "messages": msgs}
    m = {"contract": {"authors": ["Cella"], "name": name, "version": "0.1.0"},
         "source": {"compiler": "wat2wasm", "hash": "0x" + "00" * 32, "language": "ink! %d.0.0 (hand-written WAT)" % version},
         "spec": spec, "storage": {"root": {"layout": {"struct": {"fields": [], "name": name}}, "root_key": "0x00000000"}},
         "types": r.types, "version": version if version == 5 else str(version)}
    with open(name + ".json", "w") as f:
        json.dump(m, f, indent=1, sort_keys=True)
        f.write("\n")

r = Reg(); b = r.prim("bool")
meta("flipper", r, [ctor(r, "new", [arg("init_value", b, "bool")]), ctor(r, "default", [])],
     [msg(r, "flip", [], r.unit()), msg(r, "get", [], b, False)])

r = Reg(); bal = r.prim("u128"); acct = r.account()
err = r.add("Error", {"def": {"variant": {"variants": [{"index": 0, "name": "InsufficientBalance"}]}}, "path": ["erc20", "erc20", "Error"]})
meta("erc20", r, [ctor(r, "new", [arg("total_supply", bal, "Balance")])],
     [msg(r, "total_supply", [], bal, False), msg(r, "balance_of", [arg("owner", acct, "AccountId")], bal, False),
      msg(r, "transfer", [arg("to", acct, "AccountId"), arg("value", bal, "Balance")], r.result(r.unit(), err))],
     [{"args": [{"docs": [], "indexed": True, "label": "from", "type": ty(r.option(acct), "Option")},
                {"docs": [], "indexed": True, "label": "to", "type": ty(r.option(acct), "Option")},
                {"docs": [], "indexed": False, "label": "value", "type": ty(bal, "Balance")}],
       "docs": [], "label": "Transfer"}])

r = Reg(); u32 = r.prim("u32")
meta("events", r, [ctor(r, "new", [])], [msg(r, "emit", [arg("value", u32, "u32")], r.unit())],
     [{"args": [{"docs": [], "indexed": True, "label": "value", "type": ty(u32, "u32")}], "docs": [],
       "label": "Emitted", "module_path": "events::events",
       "signature_topic": "0x" + hashlib.blake2b(b"Emitted(u32)", digest_size=32).hexdigest()}], version=5)

r = Reg(); u8 = r.prim("u8")
meta("reverter", r, [ctor(r, "new", [])],
     [msg(r, "fail", [], r.result(r.unit(), u8)), msg(r, "trap", [], r.unit()), msg(r, "get", [], u8, False)])

r = Reg(); u32 = r.prim("u32"); u64 = r.prim("u64")
meta("compute", r, [ctor(r, "new", [])], [msg(r, "run", [arg("n", u32, "u32")], u64, False)])

r = Reg(); acct = r.account(); h = r.hash(); b = r.prim("bool"); u32 = r.prim("u32")
meta("caller", r, [ctor(r, "new", [arg("callee", acct, "AccountId")])],
     [msg(r, "call_flip", [], b), msg(r, "instantiate_flip", [arg("code_hash", h, "Hash")], acct),
      msg(r, "recurse", [], u32)])

r = Reg(); u8 = r.prim("u8"); u16 = r.prim("u16"); u32 = r.prim("u32"); u128 = r.prim("u128")
s = r.prim("str"); b = r.prim("bool"); bytes_ = r.add("Vec<u8>", {"def": {"sequence": {"type": u8}}})
pk = r.bytes32()
err = r.add("Error", {"def": {"variant": {"variants": [
    {"fields": [{"type": u16, "typeName": "u16"}], "index": 0, "name": "HttpStatus"},
    {"index": 1, "name": "BadBody"}, {"index": 2, "name": "NotInQuery"}, {"index": 3, "name": "NotOwner"},
    {"index": 4, "name": "BadUrl"}, {"index": 5, "name": "SigningFailed"}]}},
    "path": ["pricefeed", "pricefeed", "Error"]})
signed = r.add("SignedPrice", {"def": {"composite": {"fields": [
    {"name": "price", "type": u128, "typeName": "u128"}, {"name": "block", "type": u32, "typeName": "BlockNumber"},
    {"name": "signature", "type": bytes_, "typeName": "Vec<u8>"}, {"name": "pubkey", "type": pk, "typeName": "[u8; 32]"}]}},
    "path": ["pricefeed", "pricefeed", "SignedPrice"]})
meta("pricefeed", r, [ctor(r, "new", [arg("url", s, "String")], r.result(r.unit(), err))],
     [msg(r, "set_url", [arg("url", s, "String")], r.result(r.unit(), err)),
      msg(r, "url", [], s, False),
      msg(r, "fetch_price", [], r.result(signed, err), False),
      msg(r, "verify", [arg("price", u128, "u128"), arg("block", u32, "BlockNumber"), arg("signature", bytes_, "Vec")], b, False),
      msg(r, "pubkey", [], pk, False)])

r = Reg(); u32 = r.prim("u32"); b = r.prim("bool")
meta("hooker", r, [ctor(r, "new", [])],
     [msg(r, "set_hook", [], r.unit()), msg(r, "tick", [], r.unit()), msg(r, "get", [], u32, False),
      msg(r, "cache_put", [arg("revert", b, "bool")], b), msg(r, "bad_event", [], r.unit())])
