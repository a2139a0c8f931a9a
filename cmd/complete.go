package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/wsgi"
)

// completeApps completes registered app names, with their descriptions.
func completeApps(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, name := range wsgi.Names() {
		if !strings.HasPrefix(name, toComplete) || (c.Name() == "serve" && len(args) > 0) {
			continue
		}
		e, _ := wsgi.Lookup(name)
		out = append(out, cobra.CompletionWithDesc(name, e.Description))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
