package cmd

import (
	"bytes"
	"flag"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/internal/clidoc"
	"github.com/wsgo/wsgo/wsgi"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./cmd -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func wsgo(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRoutesGolden(t *testing.T) {
	for _, tt := range []struct {
		file string
		args []string
	}{
		{"routes.txt", []string{"routes"}},
		{"routes-all-methods.txt", []string{"routes", "hello", "--all-methods"}},
		{"routes-sort-rule.txt", []string{"routes", "--sort", "rule"}},
		{"routes-mount.txt", []string{"routes", "demo", "--mount", "/hello=hello"}},
		{"routes.json", []string{"routes", "--json"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			code, out, errOut := wsgo(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.file, out)
		})
	}
}

func TestRoutesErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"routes", "helo"}, `unknown app "helo"; did you mean "hello"?`},
		{[]string{"routes", "--sort", "size"}, `invalid --sort "size"`},
		{[]string{"routes", "--mount", "/x=demo"}, "with --mount, name the one app served at the root"},
		{[]string{"routes", "demo", "--mount", "x=hello"}, "must start with /"},
	} {
		code, _, errOut := wsgo(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func plainApp(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] { return nil }

// TestRoutesEndpointOfPlainApp: an app without a router is listed under its
// function's name, and its description goes to the second table.
func TestRoutesEndpointOfPlainApp(t *testing.T) {
	e := wsgi.Entry{Name: "plain", Description: "a plain app", App: wsgi.AppFunc(plainApp)}
	routes := appRoutes(e)
	if len(routes) != 1 || routes[0].Endpoint != "cmd.plainApp" || routes[0].Path != "/{path...}" || routes[0].Method != "" {
		t.Errorf("appRoutes = %+v, want one catch-all route to cmd.plainApp", routes)
	}
	var b bytes.Buffer
	writeDescriptions(&b, []routeRow{{App: "plain", about: "a plain app"}, {App: "bare"}})
	if want := "\nApp    Description\n-----  -----------\nplain  a plain app\n"; b.String() != want {
		t.Errorf("descriptions:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	writeDescriptions(&b, []routeRow{{App: "bare"}})
	if b.Len() != 0 {
		t.Errorf("no app has a description, yet: %q", b.String())
	}
}

func TestNoRoutes(t *testing.T) {
	var b bytes.Buffer
	writeRoutesTable(&b, nil)
	if b.String() != "No routes were registered.\n" {
		t.Errorf("%q", b.String())
	}
}

func TestCompletion(t *testing.T) {
	for _, args := range [][]string{{"__complete", "serve", ""}, {"__complete", "routes", "he"}} {
		_, out, _ := wsgo(t, args...)
		if !strings.Contains(out, "hello\ta small app made with the router") {
			t.Errorf("%v: no hello with its description:\n%s", args, out)
		}
		if args[2] == "" && !strings.Contains(out, "demo\techoes the request") {
			t.Errorf("%v: no demo:\n%s", args, out)
		}
		if args[2] == "he" && strings.Contains(out, "demo") {
			t.Errorf("%v: demo does not start with he:\n%s", args, out)
		}
	}
	if _, out, _ := wsgo(t, "__complete", "serve", "demo", ""); strings.Contains(out, "hello") {
		t.Errorf("serve takes one app, yet a second was offered:\n%s", out)
	}
	if _, out, _ := wsgo(t, "completion", "bash"); !strings.Contains(out, "bash completion V2 for wsgo") {
		t.Errorf("no bash completion script")
	}
}

// TestCLIReferenceIsCurrent fails when docs/cli.md no longer matches the
// commands: run go generate ./cmd.
func TestCLIReferenceIsCurrent(t *testing.T) {
	want, err := clidoc.Markdown(Root())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("docs/cli.md is out of date: run go generate ./cmd")
	}
}
