package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/wsgi"
)

// completeApps completes registered app names, with their descriptions.
func completeApps(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if m, err := locate(""); m != nil && err == nil {
		return completeProjectApps(c, m, args, toComplete)
	}
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

// completeProjectApps completes the apps of the user's module, which only
// its program knows: it is built (the go command's cache makes that quick
// the second time) and asked.
func completeProjectApps(c *cobra.Command, m *gobuild.Module, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if c.Name() == "serve" && len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	exe, done, err := buildProgram(context.Background(), m, gobuild.Dev, buildFlags(false))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	defer done()
	names, err := appsOf(exe)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, name := range names {
		if strings.HasPrefix(name, toComplete) {
			out = append(out, name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
