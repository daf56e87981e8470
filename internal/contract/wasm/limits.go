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
	// take about 20 s to compile, 65535 levels would take hours. Compilers
	// emit one level per match arm at most; real code stays far below.
	MaxNesting = 1024
)
