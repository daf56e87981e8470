// Command cella is the single binary of the Cella network: a development
// network in one process, a node, the relayer, and client commands.
package main

import (
	"os"

	"github.com/cella-network/cella/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
