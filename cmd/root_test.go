package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestUnknownCommandSuggests(t *testing.T) {
	for typed, want := range map[string]string{
		"sevre":  `unknown command "sevre"; did you mean "serve"?`,
		"server": `unknown command "server"; did you mean "serve"?`,
		"rotes":  `unknown command "rotes"; did you mean "routes"?`,
		"nwe":    `unknown command "nwe"; did you mean "new"?`,
		"serv":   `unknown command "serv"; did you mean "serve"?`,
		"comp":   `unknown command "comp"; did you mean "completion"?`,
		"xyzzy":  `unknown command "xyzzy"` + "\n",
	} {
		code, _, errOut := wsgo(t, typed, "demo")
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("wsgo %s demo: exit %d %q; want 2 and %q", typed, code, errOut, want)
		}
	}
}

// TestSuggestCommandPicksClosest: of several candidates, the closest wins,
// not the first in alphabetical order.
func TestSuggestCommandPicksClosest(t *testing.T) {
	root := &cobra.Command{Use: "x", SuggestionsMinimumDistance: 2}
	for _, name := range []string{"abcd", "abce"} {
		root.AddCommand(&cobra.Command{Use: name, Run: func(*cobra.Command, []string) {}})
	}
	if got := suggestCommand(root, "abcex"); got != "abce" {
		t.Errorf("suggestCommand(abcex) = %q, want abce", got)
	}
}
