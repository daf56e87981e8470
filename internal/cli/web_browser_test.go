package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/nodetest"
)

// chromiumPath is Debian's Chromium (apt-get install chromium), or
// CELLA_CHROMIUM. The test never downloads a browser.
func chromiumPath() string {
	if p := os.Getenv("CELLA_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// TestWebAppInBrowser starts `cella dev` with its web app and drives the
// app in a real Chromium through web/test/browser.mjs (playwright-core from
// web/node_modules): the explorer shows a new block, the contract UI
// deploys flipper from its .wasm and .json as //Alice, flips it with an
// encrypted command and a signed, encrypted query sees the value change;
// the command's block shows the decoded call; the governance page shows the
// dev council and, live, a council proposal made here when the browser asks
// (//Alice proposes, //Bob approves) with its decoded call and outcome. Screenshots land in
// web/test-results (or CELLA_WEB_ARTIFACTS). It skips, saying why, where
// node, Chromium or web/node_modules is missing.
func TestWebAppInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole dev network and a browser")
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the browser test needs Node 20+")
	}
	chromium := chromiumPath()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium, or set CELLA_CHROMIUM)", chromium)
	}
	webDir, err := filepath.Abs(filepath.Join("..", "..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		t.Skipf("web/node_modules has no playwright-core (run: cd web && npm ci)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	home := t.TempDir()
	rpc, p2p, pr, webAddr := nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	stop, out := startDevCmd(t, home, rpc, p2p, pr, "--block-time", "300ms", "--web-addr", webAddr)
	defer stop()
	url := "http://" + webAddr + "/"
	waitFor(ctx, t, "the web app", func() bool {
		res, err := http.Get(url + "api/config")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	// The app answers as soon as it listens; the banner naming it is
	// printed right after the network is up.
	waitFor(ctx, t, "the banner with the web app's URL", func() bool {
		return strings.Contains(out.String(), "Web app (explorer and contract UI): "+url)
	})

	artifacts := os.Getenv("CELLA_WEB_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(webDir, "test-results")
	}
	cmd := exec.CommandContext(ctx, nodeBin, filepath.Join(webDir, "test", "browser.mjs"))
	cmd.Dir = webDir
	measurement := "0x" + strings.Repeat("77", 32)
	cmd.Env = append(os.Environ(), "CELLA_WEB_URL="+url, "CELLA_CHROMIUM="+chromium, "CELLA_WEB_ARTIFACTS="+artifacts,
		"CELLA_GOV_ON_REQUEST=1", "CELLA_GOV_MEASUREMENT="+measurement,
		"CELLA_TESTCONTRACTS="+filepath.Join("..", "internal", "contract", "testcontracts"))
	var b safeBuffer
	cmd.Stderr = &b
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The browser asks for a council proposal once the governance page is
	// open, and then waits for the live page to show it enacted: //Alice
	// proposes to allow-list a measurement, //Bob's aye approves it (within
	// the 20-block voting period: both commands run in this process).
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		b.Write([]byte(line + "\n"))
		if !strings.Contains(line, "[browser] gov: propose now") {
			continue
		}
		var proposed struct {
			Code int    `json:"code"`
			Log  string `json:"log"`
		}
		out1, err := runCmdErr(t, "gov", "propose", "measurement", "allow", measurement, "--from", "//Alice", "--wait", "--node", rpc, "-o", "json")
		if err == nil {
			err = json.Unmarshal([]byte(out1), &proposed)
		}
		if err == nil && (proposed.Code != 0 || !strings.HasPrefix(proposed.Log, "proposal ")) {
			err = fmt.Errorf("no proposal: %s", out1)
		}
		if err == nil {
			_, err = runCmdErr(t, "gov", "vote", strings.TrimPrefix(proposed.Log, "proposal "), "aye", "--from", "//Bob", "--wait", "--node", rpc)
		}
		if err != nil {
			t.Errorf("the proposal for the browser: %v", err)
			fmt.Fprintf(stdin, "error %v\n", err)
		} else {
			fmt.Fprintf(stdin, "%s\n", proposed.Log)
		}
		stdin.Close()
	}
	err = cmd.Wait()
	t.Logf("browser run:\n%s", b.String())
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s", err, artifacts)
	}
	if !strings.Contains(b.String(), "all steps passed") {
		t.Fatalf("the browser test did not finish its steps")
	}
	t.Logf("screenshots in %s", artifacts)
}
