package wasm

// Structural caps the decoder enforces on every module, whatever the policy.
// Every count in a module is also bounded by the bytes that remain in its
// section, so no count can make the decoder allocate more than a small
// multiple of the input; these caps additionally bound the work that a
// compiler (wazero) does for a module that is small in bytes but large in
// what it declares. They follow pallet-contracts' Schedule limits and wasmi's
// defaults where those exist, and are generous for real ink! contracts.
const (
	// MaxTypes bounds the type section. ink! contracts declare well under
	// 200 signatures; the cap keeps per-type tables of the compiler small.
	MaxTypes = 4096
	// MaxParams bounds the parameters (and results) of one signature, as
	// pallet-contracts' Schedule limit "parameters" (128).
	MaxParams = 128
	// MaxImports bounds the import section. The host offers a few hundred
	// names (with seal_ aliases); a contract imports a few dozen.
	MaxImports = 1024
	// MaxTables bounds the table section: the MVP allows one table.
	MaxTables = 1
	// MaxMemories bounds the memory section: the MVP allows one memory.
	MaxMemories = 1
	// MaxElemSegments bounds the element section. rustc/wasm-ld emit one
	// segment for the indirect-call table.
	MaxElemSegments = 1024
	// MaxDataSegments bounds the data section. wasm-ld emits one segment
	// per output data section (a handful). Without this cap a 133-byte
	// module declaring 0xFFFFFFF0 segments made wazero allocate for all of
	// them and kill the process.
	MaxDataSegments = 1024
	// MaxBrTableTargets bounds the targets of one br_table (not counting the
	// default), as pallet-contracts' Schedule limit "br_table_size" (256).
	// Compile work per br_table grows with its targets; without the cap one
	// br_table of 500k targets took wazero 52 s and 1.2 GB.
	MaxBrTableTargets = 256
	// MaxTotalLocals bounds the locals (parameters included) of all
	// functions together: a local declaration is 2 bytes for any count, and
	// a compiler spends time and frame space on every local.
	MaxTotalLocals = 1 << 20
	// MaxFuncLocals bounds the declared locals of one function at decoding
	// (the policy's MaxLocals is usually much lower).
	MaxFuncLocals = 1 << 16
	// MaxNesting bounds the nesting depth of blocks in one function body.
	// wazero's compile time grows quadratically with a function's nesting
	// (a chain of dominators): 1024 levels in 6 KiB functions filling 2 MiB
	// took about 20 s to compile before the compile budget (below), which
	// now admits 12 such functions (0.9 s); 65535 levels would take hours.
	// Compilers emit one level per match arm at most; real code stays far
	// below (270 in Phala's phatjs, 107 in pink's check_system).
	MaxNesting = 1024
)

// The compile budget, enforced by Validate. wazero's optimizing compiler
// spends time quadratic in the control flow of one function (its
// dominator-tree, loop-nesting and SSA value-lookup passes walk the basic
// blocks and edges once per block): 40k "i32.const 0; br_if 0" in one 160 KB
// function took 18-29 s, 5000 metered loops in 30 KB took 5 s, and 1000
// br_tables of 256 targets in 265 KB took 9 s, where 2 MiB of straight-line
// code takes 0.14 s. Validate therefore measures each function f by
//
//	b_f = its block, loop, if, else, br, br_if, br_table and return
//	      instructions (each starts or ends a basic block; the gas
//	      instrumentation adds a conditional to every metered block),
//	e_f = b_f + the targets of all its br_tables (the extra edges),
//
// and bounds the module's compile cost Σ_f e_f·(b_f + ControlEdgeWeight) by
// MaxCompileBudget. Measured on the reference machine (2 cores shared with
// other work), compiling costs about 125 ns per unit of e·b within one
// function of b = 4096 (metered loops, the worst pattern found; less for
// smaller functions) plus about 7 µs per metered loop whatever the function
// (its instrumented form has four basic blocks): about 58 units per edge,
// hence the weight of 64. So any accepted module compiles its control flow
// in about 2^24 · 125 ns ≈ 2.1 s, whether it spends the budget on one large
// function, on many small ones or on both; the rest is linear in code size
// (0.14 s for 2 MiB of straight-line code). Since the cost of one function
// is at least b_f², the budget also caps one function at 4064 control
// instructions. See the engine's BenchmarkPrepare for the worst cases.
const (
	// MaxCompileBudget bounds Σ_f e_f·(b_f + 64), 2^24. Real contracts
	// stay far below: the largest of polkadot-js' ink! v0-v5 test contracts
	// (multisig_plain, 93 KB) costs 3.6·10^5 (margin 46x), the largest of
	// Phala's pink test contracts (check_system, 77 KB, largest function
	// b = 1041, nesting 107) 1.6·10^6 (margin 10x), and Phala's QuickJS
	// contract qjs (490 KB) 6.4·10^6 (margin 2.6x).
	MaxCompileBudget = 1 << 24
	// ControlEdgeWeight is the linear part of the compile cost of one
	// control edge, in units of the quadratic part (see above).
	ControlEdgeWeight = 64
)

// controlCount accumulates b and e of one function body (see
// MaxCompileBudget).
type controlCount struct{ b, e uint64 }

func (c *controlCount) add(in Instr) {
	switch in.Op {
	case OpBlock, OpLoop, OpIf, OpElse, OpBr, OpBrIf, OpReturn:
		c.b++
		c.e++
	case OpBrTable:
		c.b++
		c.e += 1 + uint64(in.Index) + 1 // the instruction, its targets and the default
	}
}

// cost is e·(b + ControlEdgeWeight); b ≤ 2^21 and e ≤ 2^30 for any body of
// a 2 MiB module, so the product cannot overflow.
func (c *controlCount) cost() uint64 { return c.e * (c.b + ControlEdgeWeight) }

// ControlCounts returns b and e of one function body (see
// MaxCompileBudget); CompileCost(b, e) is the function's compile cost.
func ControlCounts(expr []byte) (b, e uint64, err error) {
	var c controlCount
	err = Walk(expr, func(in Instr, _ int) error {
		c.add(in)
		return nil
	})
	return c.b, c.e, err
}

// CompileCost is the compile cost e·(b + ControlEdgeWeight) of a function of
// b control instructions and e control edges, as Validate sums it.
func CompileCost(b, e uint64) uint64 {
	c := controlCount{b, e}
	return c.cost()
}
