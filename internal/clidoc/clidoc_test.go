package clidoc

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestMarkdownHasEveryFlag: the flags cobra adds only when it executes,
// --version among them, are in the reference too.
func TestMarkdownHasEveryFlag(t *testing.T) {
	root := &cobra.Command{Use: "tool", Short: "A tool", Version: "1.2.3", Run: func(*cobra.Command, []string) {}}
	root.PersistentFlags().Bool("quiet", false, "say less")
	root.AddCommand(&cobra.Command{Use: "sub", Short: "A subcommand", Run: func(*cobra.Command, []string) {}})
	md, err := Markdown(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"-v, --version   version for tool",
		"-h, --help      help for tool",
		"-h, --help   help for sub",
		"--quiet   say less",
		"## tool completion bash",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in:\n%s", want, md)
		}
	}
}
