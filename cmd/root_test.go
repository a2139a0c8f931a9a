package cmd

import (
	"path/filepath"
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

func TestUnknownAppMessage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "nosuch"}, `wsgo: unknown app "nosuch"; the registered apps are demo, hello` + "\n"},
		{[]string{"serve", "dmeo"}, `wsgo: unknown app "dmeo"; did you mean "demo"? The registered apps are demo, hello` + "\n"},
		{[]string{"routes", "nosuch"}, `wsgo: unknown app "nosuch"; the registered apps are demo, hello` + "\n"},
	} {
		code, _, errOut := wsgo(t, tt.args...)
		if code != exitUsage || errOut != tt.want {
			t.Errorf("%v: exit %d %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestUnknownAppInSource: an app the module's source registers, yet this
// binary lacks, gets advice to rebuild.
func TestUnknownAppInSource(t *testing.T) {
	dir := newModule(t, "example.com/site", map[string]string{
		"apps/blog.go":           "package apps\n\nfunc init() {\n\twsgo.Register(\"blog\", Blog())\n}\n",
		"apps/shop_test.go":      "package apps\n\nfunc init() { Register(\"shop\", nil) }\n",
		"apps/cart.go":           "package apps\n\nfunc init() { Register(\"cartography\", nil) }\n",
		"apps/testdata/x.go":     "package x\n\nfunc init() { Register(\"cart\", nil) }\n",
		"tools/go.mod":           "module example.com/tools\n",
		"tools/inventory/inv.go": "package inventory\n\nfunc init() { Register(\"inventory\", nil) }\n",
	})
	const rebuild = `registers "blog", but this wsgo binary was built without it: rebuild it`
	for _, tt := range []struct {
		dir, args, want string
	}{
		{dir, "serve blog", "\napps/blog.go " + rebuild},
		{filepath.Join(dir, "apps"), "routes blog", "\nblog.go " + rebuild},
	} {
		code, out := runIn(t, tt.dir, wsgoBin, strings.Fields(tt.args)...)
		if code != exitUsage || !strings.Contains(out, `unknown app "blog"; the registered apps are demo, hello`) || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d %q; want 2 and %q", tt.args, code, out, tt.want)
		}
	}
	// Tests, testdata, nested modules and longer names do not count.
	for _, name := range []string{"shop", "cart", "inventory", "nosuch"} {
		if code, out := runIn(t, dir, wsgoBin, "serve", name); code != exitUsage || strings.Contains(out, "rebuild") {
			t.Errorf("serve %s: exit %d %q; want 2 and no advice to rebuild", name, code, out)
		}
	}
}
