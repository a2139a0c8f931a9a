// Command gendoc writes docs/cli.md from wsgo's commands. Run it through
// go generate ./cmd.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/wsgo/wsgo/cmd"
	"github.com/wsgo/wsgo/internal/clidoc"
)

func main() {
	out := flag.String("o", "docs/cli.md", "file to write")
	flag.Parse()
	md, err := clidoc.Markdown(cmd.Root())
	if err == nil {
		err = os.WriteFile(*out, []byte(md), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
