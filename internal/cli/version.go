package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	cmtversion "github.com/cometbft/cometbft/version"
	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/abciapp"
	"github.com/cella-network/cella/internal/state/modules"
)

// buildVersion describes this binary: Cella's release, the module version
// and VCS revision the build recorded, the Go and CometBFT versions.
type buildVersion struct {
	Version       string `json:"version"`
	ModuleVersion string `json:"moduleVersion,omitempty"`
	Revision      string `json:"revision,omitempty"`
	RevisionTime  string `json:"revisionTime,omitempty"`
	Modified      bool   `json:"modified,omitempty"`
	GoVersion     string `json:"goVersion"`
	CometBFT      string `json:"cometbft"`
	// AppVersions are the state-machine versions this binary runs: a
	// scheduled upgrade to a version outside them stops its node.
	AppVersions []uint64 `json:"appVersions"`
}

// readBuildVersion reads the build's version from runtime/debug.
func readBuildVersion() buildVersion {
	v := buildVersion{Version: abciapp.Version, GoVersion: runtime.Version(), CometBFT: cmtversion.TMCoreSemVer, AppVersions: modules.Runtimes().Supported()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v.ModuleVersion = mv
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.RevisionTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one-line form: "0.1.0 (v0.1.0, rev 1a2b3c4d5e6f, modified)".
func (v buildVersion) String() string {
	var extra []string
	if v.ModuleVersion != "" {
		extra = append(extra, v.ModuleVersion)
	}
	if v.Revision != "" {
		r := v.Revision
		if len(r) > 12 {
			r = r[:12]
		}
		extra = append(extra, "rev "+r)
	}
	if v.Modified {
		extra = append(extra, "modified")
	}
	if len(extra) == 0 {
		return v.Version
	}
	return v.Version + " (" + strings.Join(extra, ", ") + ")"
}

func newVersionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show this binary's Cella version, build revision, Go and CometBFT versions and app versions",
		Long: `Show this binary's Cella version with the module version and VCS revision the
build recorded, the Go and CometBFT versions it was built with, and the
state-machine (app) versions it runs. 'cella status' shows the versions a
running node reports.`,
		Example: "  cella version\n  cella version --output json",
		Args:    cobra.NoArgs,
	}
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		v := readBuildVersion()
		w := cmd.OutOrStdout()
		if *output == "json" {
			return printJSON(w, v)
		}
		fmt.Fprintf(w, "cella     %s\n", v)
		if v.RevisionTime != "" {
			fmt.Fprintf(w, "built     from a commit of %s\n", v.RevisionTime)
		}
		fmt.Fprintf(w, "go        %s\n", v.GoVersion)
		fmt.Fprintf(w, "cometbft  %s\n", v.CometBFT)
		fmt.Fprintf(w, "app       versions %s\n", strings.Trim(fmt.Sprint(v.AppVersions), "[]"))
		return nil
	}
	return cmd
}
