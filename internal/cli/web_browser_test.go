package cli

import (
	"context"
	"encoding/json"
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
// dev council and a council proposal made here beforehand (//Alice proposes,
// //Bob approves) with its decoded call and outcome. Screenshots land in
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

	// A council proposal for the governance page: //Alice proposes to
	// allow-list a measurement and //Bob's aye approves it (within the
	// 20-block voting period: the commands run in this process).
	measurement := "0x" + strings.Repeat("77", 32)
	var proposed struct {
		Code int    `json:"code"`
		Log  string `json:"log"`
	}
	out1 := runCmd(t, "gov", "propose", "measurement", "allow", measurement, "--from", "//Alice", "--wait", "--node", rpc, "-o", "json")
	if err := json.Unmarshal([]byte(out1), &proposed); err != nil || proposed.Code != 0 || !strings.HasPrefix(proposed.Log, "proposal ") {
		t.Fatalf("gov propose: %v\n%s", err, out1)
	}
	proposalID := strings.TrimPrefix(proposed.Log, "proposal ")
	runCmd(t, "gov", "vote", proposalID, "aye", "--from", "//Bob", "--wait", "--node", rpc)

	artifacts := os.Getenv("CELLA_WEB_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(webDir, "test-results")
	}
	cmd := exec.CommandContext(ctx, nodeBin, filepath.Join(webDir, "test", "browser.mjs"))
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "CELLA_WEB_URL="+url, "CELLA_CHROMIUM="+chromium, "CELLA_WEB_ARTIFACTS="+artifacts,
		"CELLA_GOV_PROPOSAL="+proposalID, "CELLA_GOV_MEASUREMENT="+measurement,
		"CELLA_TESTCONTRACTS="+filepath.Join("..", "internal", "contract", "testcontracts"))
	b, err := cmd.CombinedOutput()
	t.Logf("browser run:\n%s", b)
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s", err, artifacts)
	}
	if !strings.Contains(string(b), "all steps passed") {
		t.Fatalf("the browser test did not finish its steps")
	}
	t.Logf("screenshots in %s", artifacts)
}
