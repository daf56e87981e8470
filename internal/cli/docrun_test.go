package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/nodetest"
)

// The walkthrough test runs the documentation. A fenced ```sh block that
// follows the line
//
//	<!-- doc-run -->
//
// is run, command by command, against a fresh `cella dev` started by the
// test (GitHub does not render the comment). Rules, kept small on purpose:
//
//   - Only `cella`, `./cella` and `go run ./cmd/cella` commands run, through
//     the real command tree in-process; every one must exit 0. Any other
//     line (`go build`, `cp`) is skipped and logged: the test itself stands
//     for it (the binary is the in-process root, and the working directory
//     is a temporary one holding the files of internal/contract/testcontracts
//     both at its top and under that path). A `cella dev` in a run block is
//     refused: the test starts the chain. `<!-- doc-run dev -->` marks the
//     block that starts it: the test's own `cella dev` (fresh home, free
//     ports, 50 ms blocks) stands for that block, and its output (the
//     banner) is the block's output for an expect block. The steps start
//     once the dev worker holds cluster 0's key and its endpoint is on
//     chain, as on a newcomer's chain a few blocks in. Pipes,
//     redirections, `$(…)` and `VAR=value cmd` are refused: a run block
//     holds plain commands.
//   - What differs in a test comes from the environment, as for any user
//     whose default ports are taken: CELLA_NODE and CELLA_ENDPOINT point at
//     the test's node and worker (every flag reads CELLA_<FLAG>), so the
//     commands are run exactly as written.
//   - `<!-- doc-run NAME=label -->` also captures a value: the first word
//     after `label` at the start of an output line of the block's commands
//     (the CLI's "label   value" text), as NAME; later commands may use
//     $NAME or ${NAME}. A variable that was never captured fails the test.
//     In a label `_` stands for a space, and a label ending in `:` takes
//     the rest of the line ("Secret phrase:  word1 … word12"):
//     `<!-- doc-run MNEMONIC=Secret_phrase: -->`.
//   - `<!-- doc-run expect -->` before an output block (``` or ```json)
//     checks the output of the run block before it: every non-blank line
//     of the expected block must match one line of that output, where `…`
//     stands for any text and runs of spaces for any spacing. So the doc
//     writes `…` for what differs from run to run (hashes). A page that
//     shows a whole real output, heights and all, checks only the lines
//     that do not vary: `<!-- doc-run expect contract state -->` checks the
//     expected lines whose first word (after a leading `…`) is listed.

// docRunBlock is one marked shell block and the output the doc shows for it.
type docRunBlock struct {
	where    string
	lines    []docRunLine
	captures [][2]string // NAME, label
	expect   []string
	expectAt string
	// dev marks the block that starts the chain (`<!-- doc-run dev -->`):
	// the test's own `cella dev` stands for it and its output is the
	// block's.
	dev bool
	// expectOnly, when set, names the first words of the expected lines
	// that are checked (`<!-- doc-run expect contract state -->`).
	expectOnly []string
}

// docRunLine is one logical line (continuations joined) of a run block.
type docRunLine struct {
	where string
	text  string
}

const docRunMarker = "<!-- doc-run"

// docRunBlocks returns the marked blocks of a Markdown file, in order.
func docRunBlocks(path string, r io.Reader) ([]*docRunBlock, error) {
	var out []*docRunBlock
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, inBlock, prev := 0, false, ""
	var cur *docRunBlock // the block being read, when marked for running
	var exp *docRunBlock // the block whose expected output is being read
	pending, pendingLine := "", 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "```") {
			marker := prev
			prev = ""
			if inBlock {
				if cur != nil && pending != "" {
					return nil, fmt.Errorf("%s:%d: the block ends in a continued line", path, pendingLine)
				}
				inBlock, cur, exp, pending = false, nil, nil, ""
				continue
			}
			inBlock = true
			lang := strings.TrimSpace(strings.TrimPrefix(trim, "```"))
			if !strings.HasPrefix(marker, docRunMarker) {
				continue
			}
			directive := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(marker, docRunMarker), "-->"))
			where := fmt.Sprintf("%s:%d", path, n)
			switch {
			case directive == "expect" || strings.HasPrefix(directive, "expect "):
				if len(out) == 0 || out[len(out)-1].expect != nil {
					return nil, fmt.Errorf("%s: an expected output without a run block before it", where)
				}
				if lang != "" && lang != "json" && lang != "text" {
					return nil, fmt.Errorf("%s: expected output in a ```%s block", where, lang)
				}
				exp = out[len(out)-1]
				exp.expect, exp.expectAt = []string{}, where
				exp.expectOnly = strings.Fields(strings.TrimPrefix(directive, "expect"))
			case lang == "sh" && directive == "dev":
				cur = &docRunBlock{where: where, dev: true}
				out = append(out, cur)
			case lang == "sh":
				cur = &docRunBlock{where: where}
				for _, f := range strings.Fields(directive) {
					name, label, ok := strings.Cut(f, "=")
					if !ok || !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(name) || label == "" {
						return nil, fmt.Errorf("%s: %q is not NAME=label", where, f)
					}
					cur.captures = append(cur.captures, [2]string{name, label})
				}
				out = append(out, cur)
			default:
				return nil, fmt.Errorf("%s: doc-run marks a ```%s block; only ```sh blocks run", where, lang)
			}
			continue
		}
		if trim != "" {
			prev = trim
		}
		switch {
		case exp != nil:
			if f := strings.Fields(strings.TrimLeft(trim, "…")); len(exp.expectOnly) > 0 && (len(f) == 0 || !slices.Contains(exp.expectOnly, f[0])) {
				continue
			}
			if trim != "" {
				exp.expect = append(exp.expect, trim)
			}
		case cur != nil:
			if pending == "" {
				pendingLine = n
			}
			if strings.HasSuffix(trim, "\\") {
				pending += strings.TrimSuffix(trim, "\\") + " "
				continue
			}
			if full := strings.TrimSpace(pending + trim); full != "" {
				cur.lines = append(cur.lines, docRunLine{where: fmt.Sprintf("%s:%d", path, pendingLine), text: full})
			}
			pending = ""
		}
	}
	if inBlock {
		return nil, fmt.Errorf("%s: unterminated code block", path)
	}
	return out, sc.Err()
}

var docVarRE = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// docRunArgs returns the cella arguments of a run line with its variables
// substituted, or nil for a line that is not a cella command.
func docRunArgs(text string, vars map[string]string) ([]string, error) {
	words, err := shellWords(text)
	if err != nil || len(words) == 0 {
		return nil, err // a comment line is nothing to run
	}
	for _, w := range words {
		if strings.HasPrefix(w, "\x00") {
			return nil, fmt.Errorf("%q: a run block holds plain commands (no %s)", text, w[1:])
		}
		if strings.Contains(w, "$(") {
			return nil, fmt.Errorf("%q: a run block holds plain commands (no $(…))", text)
		}
	}
	cmds, err := cellaCommands(text)
	if err != nil {
		return nil, err
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	if len(words) > 0 && strings.Contains(words[0], "=") {
		return nil, fmt.Errorf("%q: a run block sets no variables for a command", text)
	}
	args := cmds[0]
	for i, a := range args {
		var missing string
		args[i] = docVarRE.ReplaceAllStringFunc(a, func(m string) string {
			name := docVarRE.FindStringSubmatch(m)[1]
			v, ok := vars[name]
			if !ok {
				missing = name
			}
			return v
		})
		if missing != "" {
			return nil, fmt.Errorf("%q: $%s was not captured by an earlier block", text, missing)
		}
	}
	if len(args) > 0 && args[0] == "dev" {
		return nil, fmt.Errorf("%q: the test starts the chain itself; do not mark a `cella dev` block", text)
	}
	return args, nil
}

// checkDevBlock checks that a `doc-run dev` block starts cella dev (after
// any non-cella setup lines such as `git clone`) and does nothing else.
func checkDevBlock(b *docRunBlock) error {
	devs := 0
	for _, l := range b.lines {
		cmds, err := cellaCommands(l.text)
		if err != nil {
			return fmt.Errorf("%s: %w", l.where, err)
		}
		for _, c := range cmds {
			if len(c) == 0 || c[0] != "dev" {
				return fmt.Errorf("%s: a doc-run dev block runs only cella dev, not %q", l.where, l.text)
			}
			devs++
		}
	}
	if devs != 1 {
		return fmt.Errorf("%s: a doc-run dev block starts cella dev once (%d found)", b.where, devs)
	}
	return nil
}

// docCapture returns the first word after label at the start of a line of
// out, or the rest of the line when label ends in a colon; `_` in label is
// a space.
func docCapture(out, label string) (string, bool) {
	lf := strings.Fields(strings.ReplaceAll(label, "_", " "))
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > len(lf) && strings.Join(f[:len(lf)], " ") == strings.Join(lf, " ") {
			if strings.HasSuffix(label, ":") {
				return strings.Join(f[len(lf):], " "), true
			}
			return f[len(lf)], true
		}
	}
	return "", false
}

// docExpectLine reports whether the expected line matches a line of out:
// `…` stands for any text, a run of spaces for any spacing.
func docExpectLine(out, want string) bool {
	var re strings.Builder
	re.WriteString(`^\s*`)
	for i, part := range strings.Split(want, "…") {
		if i > 0 {
			re.WriteString(`.*`)
		}
		for j, w := range strings.Fields(part) {
			if j > 0 {
				re.WriteString(`\s+`)
			}
			re.WriteString(regexp.QuoteMeta(w))
		}
	}
	re.WriteString(`\s*$`)
	rx := regexp.MustCompile(re.String())
	for _, l := range strings.Split(out, "\n") {
		if rx.MatchString(l) {
			return true
		}
	}
	return false
}

// TestDocRunParser: the marker, captures, variables and expectations.
func TestDocRunParser(t *testing.T) {
	doc := "# t\n<!-- doc-run -->\n```sh\ngo build -o cella ./cmd/cella\n./cella status \\\n  --output json\n```\n\n```sh\n./cella not run\n```\n" +
		"<!-- doc-run ADDR=contract H=tx -->\n```sh\n./cella contract query $ADDR get\n```\n<!-- doc-run expect -->\n```\ncall … ok\n  tx   0x…\n```\n" +
		"<!-- doc-run -->\n```sh\ncella status\n```\n<!-- doc-run expect tx state -->\n```json\ncall in block 7\n  tx 0x…\n…  state  ok\n\n```\n"
	bs, err := docRunBlocks("t.md", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 || !slices.Equal(bs[2].expect, []string{"tx 0x…", "…  state  ok"}) || len(bs[0].lines) != 2 || bs[0].lines[1].text != "./cella status  --output json" || bs[0].lines[1].where != "t.md:5" ||
		len(bs[1].captures) != 2 || bs[1].captures[1] != [2]string{"H", "tx"} || len(bs[1].expect) != 2 || bs[1].expect[1] != "tx   0x…" {
		t.Fatalf("%+v %+v", bs[0], bs[1])
	}
	if a, err := docRunArgs(bs[0].lines[0].text, nil); a != nil || err != nil {
		t.Fatalf("go build: %v %v", a, err)
	}
	if a, err := docRunArgs(bs[1].lines[0].text, map[string]string{"ADDR": "5Ee9"}); err != nil || strings.Join(a, " ") != "contract query 5Ee9 get" {
		t.Fatalf("substitution: %v %v", a, err)
	}
	for _, bad := range []string{"./cella query tx $HASH", "./cella status | jq .", "go run ./cmd/cella dev", "CELLA_SURI=x ./cella keys inspect", "./cella status > s.json"} {
		if _, err := docRunArgs(bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	dev, err := docRunBlocks("d.md", strings.NewReader("<!-- doc-run dev -->\n```sh\ngit clone x\ngo run ./cmd/cella dev --home $(mktemp -d)  # new\n```\n"))
	if err != nil || len(dev) != 1 || !dev[0].dev || checkDevBlock(dev[0]) != nil {
		t.Fatalf("dev block: %v %+v", err, dev)
	}
	for _, bad := range []string{"cella dev\ncella status", "go build", "cella dev\ncella dev --reset"} {
		b := &docRunBlock{where: "d.md:1"}
		for _, l := range strings.Split(bad, "\n") {
			b.lines = append(b.lines, docRunLine{where: "d.md:2", text: l})
		}
		if checkDevBlock(b) == nil {
			t.Errorf("dev block %q accepted", bad)
		}
	}
	for _, bad := range []string{"<!-- doc-run -->\n```go\nx\n```\n", "<!-- doc-run expect -->\n```\nx\n```\n", "<!-- doc-run lower=x -->\n```sh\n```\n", "<!-- doc-run -->\n```sh\ncella \\\n```\n"} {
		if _, err := docRunBlocks("bad.md", strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	out := "call included in block 33: ok\n  tx          0x60a74b1d49f3d53\n  contract    5Ee96b1v (0x71f8)\n"
	if v, ok := docCapture(out, "contract"); !ok || v != "5Ee96b1v" {
		t.Fatalf("capture %q %v", v, ok)
	}
	if _, ok := docCapture(out, "code_hash"); ok {
		t.Fatal("captured a missing label")
	}
	if v, ok := docCapture("Secret phrase:   a b  c\n  Secret seed: 0x1\n", "Secret_phrase:"); !ok || v != "a b c" {
		t.Fatalf("capture %q %v", v, ok)
	}
	if v, ok := docCapture("Secret phrase:   a b  c\n", "Secret_phrase"); ok {
		t.Fatalf("captured %q without the colon", v)
	}
	for want, ok := range map[string]bool{"call … ok": true, "tx 0x…": true, "call included in block 34: ok": false, "contract 5Ee96b1v": false, "…(0x71f8)": true} {
		if docExpectLine(out, want) != ok {
			t.Errorf("expect %q: want %v", want, ok)
		}
	}
}

// TestDocWalkthrough runs the doc-run blocks of the newcomer's pages, each
// page from zero on its own fresh `cella dev`.
func TestDocWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the documented walkthroughs against cella dev")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"docs/getting-started.md", "README.md", "docs/phat-contracts.md"} {
		t.Run(filepath.Base(page), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(repo, page))
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := docRunBlocks(page, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if len(blocks) == 0 {
				t.Fatalf("%s has no doc-run blocks", page)
			}
			runDocBlocks(t, repo, blocks)
		})
	}
}

func runDocBlocks(t *testing.T, repo string, blocks []*docRunBlock) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The working directory a newcomer has after `cp …/testcontracts/… .`.
	work := t.TempDir()
	src := filepath.Join(repo, "internal", "contract", "testcontracts")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if ext := filepath.Ext(e.Name()); ext != ".wasm" && ext != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(work, "internal", "contract"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(work, "internal", "contract", "testcontracts")); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	rpc, p2p, pr := nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	devCtx, devCancel := context.WithCancel(context.Background())
	devOut := &safeBuffer{}
	root := newRootCmd()
	root.SetArgs([]string{"dev", "--home", home, "--block-time", "50ms", "--rpc-addr", "tcp://" + rpc,
		"--p2p-addr", "tcp://" + p2p, "--pruntime-addr", pr, "--metrics-addr", "", "--log-level", "error", "--web-addr", ""})
	root.SetOut(devOut)
	root.SetErr(devOut)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(devCtx) }()
	defer func() {
		devCancel()
		if err := <-done; err != nil {
			t.Errorf("cella dev: %v", err)
		}
	}()
	node, worker := "http://"+rpc, "http://"+pr
	// Ready when the worker holds cluster 0's key (the chain says so and
	// the worker has applied it) and its endpoint is in the registry: what
	// a newcomer's chain reaches within a few blocks.
	ready := false
	for !ready {
		select {
		case err := <-done:
			done <- err
			t.Skipf("cella dev could not start: %v\n%s", err, devOut.String())
		case <-ctx.Done():
			t.Skipf("cella dev did not get ready in time:\n%s", devOut.String())
		case <-time.After(50 * time.Millisecond):
		}
		var c0 chainapi.ClusterInfo
		out, err := runCmdErr(t, "query", "cluster", "0", "--node", node, "--output", "json")
		if err != nil || json.Unmarshal([]byte(out), &c0) != nil || len(c0.Keyed) == 0 {
			continue
		}
		var info pruntimeInfo
		out, err = runCmdErr(t, "pruntime", "info", "--endpoint", worker, "--output", "json")
		if err != nil || json.Unmarshal([]byte(out), &info) != nil || len(info.Clusters) == 0 {
			continue
		}
		out, err = runCmdErr(t, "query", "workers", "--node", node)
		ready = err == nil && strings.Contains(out, "endpoint      "+worker+"\n")
	}
	t.Setenv("CELLA_NODE", node)
	t.Setenv("CELLA_ENDPOINT", worker)
	t.Chdir(work)

	vars := map[string]string{}
	ran := 0
	for _, b := range blocks {
		var blockOut strings.Builder
		if b.dev {
			if err := checkDevBlock(b); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: the test's cella dev stands for this block", b.where)
			blockOut.WriteString(devOut.String())
		}
		for _, l := range b.lines {
			if b.dev {
				break
			}
			args, err := docRunArgs(l.text, vars)
			if err != nil {
				t.Fatalf("%s: %v", l.where, err)
			}
			if args == nil && strings.HasPrefix(l.text, "#") {
				continue
			}
			if args == nil {
				t.Logf("%s: skipped, not a cella command (the test stands for it): %s", l.where, l.text)
				continue
			}
			var out, errOut bytes.Buffer
			code := run(ctx, args, &out, &errOut)
			if code != ExitOK {
				t.Fatalf("%s: %s: exit %d\nstdout:\n%s\nstderr:\n%s", l.where, l.text, code, out.String(), errOut.String())
			}
			ran++
			t.Logf("%s: cella %s\n%s", l.where, strings.Join(args, " "), out.String())
			blockOut.WriteString(out.String())
			for _, c := range b.captures {
				if _, done := vars[c[0]]; done {
					continue
				}
				if v, ok := docCapture(out.String(), c[1]); ok {
					vars[c[0]] = v
				}
			}
		}
		for _, c := range b.captures {
			if _, ok := vars[c[0]]; !ok {
				t.Fatalf("%s: no %q line to capture %s from in:\n%s", b.where, c[1], c[0], blockOut.String())
			}
		}
		for _, want := range b.expect {
			if !docExpectLine(blockOut.String(), want) {
				t.Errorf("%s: the output has no line like %q:\n%s", b.expectAt, want, blockOut.String())
			}
		}
	}
	t.Logf("%d commands of %d blocks ran", ran, len(blocks))
}
