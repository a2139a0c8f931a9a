package cmd

import (
	"os"
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
	e2e(t)
	// A checkout of wsgo where an app was added after this binary was built.
	dir := newModule(t, "github.com/wsgo/wsgo", map[string]string{
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

// setenv sets the environment variables in env for the test, and unsets
// WSGO_HOST, WSGO_PORT and WSGO_EDITOR unless env sets them.
func setenv(t *testing.T, env map[string]string) {
	for _, name := range []string{"WSGO_HOST", "WSGO_PORT", "WSGO_EDITOR"} {
		t.Setenv(name, "") // restored when the test ends
		os.Unsetenv(name)
	}
	for name, v := range env {
		t.Setenv(name, v)
	}
}

// TestBadValueNamesItsSource: a host or port out of range is reported as
// the variable it came from, or as the flag.
func TestBadValueNamesItsSource(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"WSGO_PORT": "99999"}, nil, "invalid WSGO_PORT=99999: a port is a number from 1 to 65535"},
		{map[string]string{"WSGO_HOST": "bad host"}, nil, `invalid WSGO_HOST="bad host": give an IP address`},
		{nil, []string{"--port", "99999"}, "invalid --port 99999: a port is a number from 1 to 65535"},
		{map[string]string{"WSGO_PORT": "99999"}, []string{"--port", "70000"}, "invalid --port 70000: a port"},
		{map[string]string{"WSGO_HOST": "bad too"}, []string{"--host", "bad host"}, `invalid --host "bad host": give`},
	} {
		setenv(t, tt.env)
		args := append([]string{"serve", "demo", "--no-reload"}, tt.args...)
		code, _, errOut := wsgo(t, args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v %v: exit %d %q; want 2 and %q", tt.env, tt.args, code, errOut, tt.want)
		}
	}
}

// TestEditorFlagAndEnv: an editor wsgo does not know, that is no URL
// template, is a usage error naming where it came from and what to give;
// the flag wins over WSGO_EDITOR.
func TestEditorFlagAndEnv(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--editor", "emacs"}, `invalid --editor "emacs": want one of cursor, idea, sublime, vscode, none, or a URL template with {file} and {line}`},
		{map[string]string{"WSGO_EDITOR": "nano"}, nil, `invalid WSGO_EDITOR="nano": want one of`},
		{map[string]string{"WSGO_EDITOR": "vscode"}, []string{"--editor", "code {file}"}, `invalid --editor "code {file}": a URL template begins with the editor's scheme`},
		{map[string]string{"WSGO_EDITOR": "javascript:alert({file})"}, nil, `invalid WSGO_EDITOR="javascript:alert({file})": a link with the scheme javascript opens no editor`},
	} {
		setenv(t, tt.env)
		// --grace 0 is refused later: without the editor's check, the
		// command fails on that instead of serving.
		args := append([]string{"serve", "demo", "--no-reload", "--port", "0", "--grace", "0"}, tt.args...)
		code, _, errOut := wsgo(t, args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v %v: exit %d %q; want 2 and %q", tt.env, tt.args, code, errOut, tt.want)
		}
	}
}

// TestEmptyEnvIsUnset: WSGO_HOST= and WSGO_PORT= leave the defaults.
func TestEmptyEnvIsUnset(t *testing.T) {
	setenv(t, map[string]string{"WSGO_HOST": "", "WSGO_PORT": ""})
	c := newServe()
	if err := flagsFromEnv(c, map[string]string{"host": "WSGO_HOST", "port": "WSGO_PORT"}); err != nil {
		t.Fatal(err)
	}
	host, _ := c.Flags().GetString("host")
	port, _ := c.Flags().GetInt("port")
	if host != "127.0.0.1" || port != 8000 {
		t.Errorf("host %q port %d, want the defaults 127.0.0.1 and 8000", host, port)
	}
}
