// Package clidoc renders wsgo's command tree as one Markdown reference,
// docs/cli.md.
package clidoc

import (
	"bytes"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// Markdown renders root and every visible command below it, in one page
// with links between its own sections.
func Markdown(root *cobra.Command) (string, error) {
	// cobra adds these only when it executes.
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	var b bytes.Buffer
	b.WriteString("# wsgo command-line reference\n\n")
	b.WriteString("Generated from the commands themselves by `go generate ./cmd`; do not edit.\n\n")
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if !c.IsAvailableCommand() && c != root {
			return nil
		}
		c.DisableAutoGenTag = true
		var sec bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &sec, anchor); err != nil {
			return err
		}
		// One page: each command's heading one level down, and no
		// "SEE ALSO" lists, which the page's own order replaces.
		text := sec.String()
		if i := strings.Index(text, "### SEE ALSO"); i >= 0 {
			text = text[:i]
		}
		text = strings.ReplaceAll(text, "\n### ", "\n#### ")
		b.WriteString(strings.TrimSpace(text) + "\n\n")
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return "", err
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// anchor turns cobra's file name for a command into a link within the page.
func anchor(name string) string {
	return "#" + strings.ReplaceAll(strings.TrimSuffix(name, ".md"), "_", "-")
}
