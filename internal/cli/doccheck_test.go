package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// docCommand is one `cella …` command line found in a document.
type docCommand struct {
	where string // file:line
	args  []string
}

// shellWords splits a command line as a POSIX shell would (quotes,
// backslashes, comments) into words; an operator (| & ; && || > >> <) is a
// word of its own, marked by a leading NUL.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	r := []rune(line)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(r) && r[j] != '\'' {
				j++
			}
			if j == len(r) {
				return nil, fmt.Errorf("unterminated ' in %q", line)
			}
			cur.WriteString(string(r[i+1 : j]))
			inWord, i = true, j
		case c == '"':
			j := i + 1
			for ; j < len(r) && r[j] != '"'; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				cur.WriteRune(r[j])
			}
			if j == len(r) {
				return nil, fmt.Errorf("unterminated \" in %q", line)
			}
			inWord, i = true, j
		case c == '$' && i+1 < len(r) && r[i+1] == '(':
			// A command substitution is one word here.
			depth, j := 0, i+1
			for ; j < len(r); j++ {
				if r[j] == '(' {
					depth++
				} else if r[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j == len(r) {
				return nil, fmt.Errorf("unterminated $( in %q", line)
			}
			cur.WriteString(string(r[i : j+1]))
			inWord, i = true, j
		case c == '\\' && i+1 < len(r):
			i++
			cur.WriteRune(r[i])
			inWord = true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			flush()
			return words, nil
		case c == '|' || c == '&' || c == ';':
			flush()
			op := string(c)
			if i+1 < len(r) && r[i+1] == c {
				op += string(c)
				i++
			}
			words = append(words, "\x00"+op)
		case c == '<' && !inWord && placeholderEnd(r, i) > 0:
			// <address> is a placeholder, not a redirection.
			j := placeholderEnd(r, i)
			cur.WriteString(string(r[i : j+1]))
			inWord, i = true, j
		case c == '<' || c == '>':
			if inWord && strings.Trim(cur.String(), "0123456789") != "" {
				cur.WriteRune(c) // inside a word
				continue
			}
			cur.Reset()
			inWord = false
			op := string(c)
			if i+1 < len(r) && (r[i+1] == '>' || r[i+1] == '&') {
				op += string(r[i+1])
				i++
			}
			words = append(words, "\x00"+op)
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	flush()
	return words, nil
}

// placeholderEnd returns the index of the '>' closing a placeholder such as
// <address> that starts at i, or 0.
func placeholderEnd(r []rune, i int) int {
	for j := i + 1; j < len(r); j++ {
		switch r[j] {
		case '>':
			if j > i+1 {
				return j
			}
			return 0
		case ' ', '\t', '<', '|', '&', ';':
			return 0
		}
	}
	return 0
}

// cellaCommands returns the `cella` invocations in a shell line: each
// simple command (between operators) whose first word, after NAME=value
// assignments, is cella; a redirection ends the command's arguments.
func cellaCommands(line string) ([][]string, error) {
	words, err := shellWords(line)
	if err != nil {
		return nil, err
	}
	var out [][]string
	var cur []string
	redirected := false
	end := func() {
		i := 0
		for i < len(cur) && strings.Contains(cur[i], "=") && !strings.HasPrefix(cur[i], "-") {
			i++
		}
		switch {
		case i < len(cur) && (cur[i] == "cella" || strings.HasSuffix(cur[i], "/cella")):
			out = append(out, cur[i+1:])
		case i+2 < len(cur) && cur[i] == "go" && cur[i+1] == "run" && cur[i+2] == "./cmd/cella":
			out = append(out, cur[i+3:])
		}
		cur, redirected = nil, false
	}
	for _, w := range words {
		if strings.HasPrefix(w, "\x00") {
			op := w[1:]
			if strings.ContainsAny(op, "<>") {
				redirected = true
				continue
			}
			end()
			continue
		}
		if !redirected {
			cur = append(cur, w)
		} else {
			redirected = false // the redirection's target
		}
	}
	end()
	return out, nil
}

// docCommands extracts the cella commands (cella, ./cella, go run
// ./cmd/cella) of the fenced shell blocks (```sh, ```bash, ```console,
// ```shell; unlabelled blocks are output) of a Markdown file. In a console block only "$ " lines are commands; a trailing
// backslash continues a line.
func docCommands(path string, r io.Reader) ([]docCommand, error) {
	var out []docCommand
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, inBlock, lang := 0, false, ""
	var pending string
	pendingLine := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "```") {
			if !inBlock {
				inBlock, lang = true, strings.TrimSpace(strings.TrimPrefix(trim, "```"))
			} else {
				inBlock, pending = false, ""
			}
			continue
		}
		if !inBlock || !slices.Contains([]string{"sh", "bash", "console", "shell"}, lang) {
			continue
		}
		if pending == "" {
			pendingLine = n
			if lang == "console" {
				if !strings.HasPrefix(trim, "$ ") {
					continue
				}
			}
			trim = strings.TrimPrefix(trim, "$ ")
		}
		if strings.HasSuffix(trim, "\\") {
			pending += strings.TrimSuffix(trim, "\\") + " "
			continue
		}
		full := pending + trim
		pending = ""
		if !strings.Contains(full, "cella") {
			continue
		}
		cmds, err := cellaCommands(full)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, pendingLine, err)
		}
		for _, c := range cmds {
			out = append(out, docCommand{where: fmt.Sprintf("%s:%d", path, pendingLine), args: c})
		}
	}
	return out, sc.Err()
}

// checkCommandLine reports whether args name an existing command with
// existing flags and an acceptable number of arguments.
func checkCommandLine(args []string) error {
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd.Name() == "help" {
		return nil
	}
	cmd.InitDefaultHelpFlag()
	if err := cmd.ParseFlags(rest); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	if h, _ := cmd.Flags().GetBool("help"); h {
		return nil
	}
	pos := cmd.Flags().Args()
	if cmd.Annotations[groupAnnotation] != "" {
		if len(pos) == 0 {
			return fmt.Errorf("%s needs a subcommand", cmd.CommandPath())
		}
		return fmt.Errorf("%s has no subcommand %q", cmd.CommandPath(), pos[0])
	}
	if err := cmd.ValidateArgs(pos); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	return nil
}

// TestDocsCommandsExist: every `cella …` command in README.md and docs/*.md
// names a command and flags that exist, with a valid number of arguments;
// the --help ones run and exit 0.
func TestDocsCommandsExist(t *testing.T) {
	total := 0
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := docCommands(filepath.Base(f), strings.NewReader(string(b)))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, c := range cmds {
			total++
			if err := checkCommandLine(c.args); err != nil {
				t.Errorf("%s: cella %s: %v", c.where, strings.Join(c.args, " "), err)
				continue
			}
			if slices.Contains(c.args, "--help") || slices.Contains(c.args, "-h") || (len(c.args) > 0 && c.args[0] == "version") {
				if code, _, errOut := runMain(t, c.args...); code != ExitOK {
					t.Errorf("%s: cella %s: exit %d: %s", c.where, strings.Join(c.args, " "), code, errOut)
				}
			}
		}
	}
	if total < 50 {
		t.Fatalf("only %d cella commands found in the docs: is the extractor broken?", total)
	}
	t.Logf("%d documented cella commands checked", total)
}

// TestExamplesParse: every command's Example lines that run cella name
// existing commands and flags.
func TestExamplesParse(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example != "" {
			cmds, err := docCommands(c.CommandPath(), strings.NewReader("```sh\n"+c.Example+"\n```\n"))
			if err != nil {
				t.Error(err)
			}
			for _, dc := range cmds {
				if err := checkCommandLine(dc.args); err != nil {
					t.Errorf("example of %s: cella %s: %v", c.CommandPath(), strings.Join(dc.args, " "), err)
				}
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd())
}

// TestDocChecker: the checker itself catches what it must.
func TestDocChecker(t *testing.T) {
	doc := "intro `cella nothing` is prose\n```sh\n./cella tx transfer --to X --amount 1 --wait  # comment --bogus\n" +
		"CELLA_SURI=\"a b\" cella query balance 5Grw… | jq .free\n" +
		"go run ./cmd/cella dev --reset --home $(mktemp -d) & cella status \\\n  --output json > status.json\n" +
		"cella query tx\n```\n```console\n$ cella keys inspect //Alice\nSecret URI: cella nope\n```\n" +
		"```json\n{\"x\": \"cella nope\"}\n```\n```\ncella output\n```\n```sh\ncella query balanse X\ncella status --no-such-flag\n```\n"
	cmds, err := docCommands("t.md", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cmds {
		got = append(got, c.where+" "+strings.Join(c.args, " "))
	}
	want := []string{
		"t.md:3 tx transfer --to X --amount 1 --wait",
		"t.md:4 query balance 5Grw…",
		"t.md:5 dev --reset --home $(mktemp -d)",
		"t.md:5 status --output json",
		"t.md:7 query tx",
		"t.md:10 keys inspect //Alice",
		"t.md:20 query balanse X",
		"t.md:21 status --no-such-flag",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("extracted\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ok := []bool{true, true, true, true, false, true, false, false}
	for i, c := range cmds {
		if err := checkCommandLine(c.args); (err == nil) != ok[i] {
			t.Errorf("%s: %v", got[i], err)
		}
	}
}

// checkMention checks a command named in prose (`cella pruntime info
// --endpoint`): the command path exists and every --flag it names is one
// of that command's; values and arguments may be left out.
func checkMention(args []string) error {
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	cmd.InitDefaultHelpFlag()
	if cmd.Annotations[groupAnnotation] != "" {
		if slices.Contains(rest, "…") || slices.Contains(rest, "...") {
			return nil // "cella tx … --wait": any subcommand
		}
		for _, a := range rest {
			if !strings.HasPrefix(a, "-") && a != "…" && a != "..." {
				return fmt.Errorf("%s has no subcommand %q", cmd.CommandPath(), a)
			}
		}
	}
	for _, a := range rest {
		if !strings.HasPrefix(a, "--") || a == "--" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
			return fmt.Errorf("%s has no flag --%s", cmd.CommandPath(), name)
		}
	}
	return nil
}

// proseMentions returns the `cella …` code spans outside fenced blocks.
func proseMentions(path string, text string) []docCommand {
	var out []docCommand
	inBlock := false
	for n, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			continue
		}
		parts := strings.Split(line, "`")
		for i := 1; i < len(parts); i += 2 {
			span := strings.TrimPrefix(strings.TrimPrefix(parts[i], "./"), "go run ./cmd/")
			if !strings.HasPrefix(span, "cella ") {
				continue
			}
			words, err := shellWords(strings.TrimPrefix(span, "cella "))
			if err != nil {
				continue
			}
			var args []string
			for _, w := range words {
				if strings.HasPrefix(w, "\x00") {
					break
				}
				args = append(args, w)
			}
			out = append(out, docCommand{where: fmt.Sprintf("%s:%d", path, n+1), args: args})
		}
	}
	return out
}

// TestDocsMentionsExist: commands and flags named in the prose of README.md
// and docs/*.md exist.
func TestDocsMentionsExist(t *testing.T) {
	total := 0
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range proseMentions(filepath.Base(f), string(b)) {
			total++
			if err := checkMention(m.args); err != nil {
				t.Errorf("%s: `cella %s`: %v", m.where, strings.Join(m.args, " "), err)
			}
		}
	}
	if total < 20 {
		t.Fatalf("only %d mentions found", total)
	}
	t.Logf("%d prose mentions checked", total)
	if err := checkMention([]string{"pruntime", "info", "--endpoint"}); err != nil {
		t.Error(err)
	}
	if err := checkMention([]string{"pruntime", "info", "--bogus"}); err == nil {
		t.Error("--bogus passed")
	}
	if err := checkMention([]string{"tx", "frobnicate"}); err == nil {
		t.Error("tx frobnicate passed")
	}
}

// docFiles lists README.md and docs/*.md except docs/cli.md, which is
// generated from the commands (TestExamplesParse checks its examples).
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "cli.md" })
	return append(files, filepath.Join("..", "..", "README.md"))
}
