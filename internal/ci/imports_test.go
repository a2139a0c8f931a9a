package ci

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/wsgo/wsgo"

// allowedImports is the direction of imports among wsgo's packages, as the
// README's package table draws it: each package may import the listed
// packages of the module and no other. The contract (wsgi) and the
// protocol's leaf (reload/control) import nothing of ours; the supervisor
// (reload) only the leaf; the production server (serve) neither the
// watcher nor the go command's package; cmd does not import the built-in
// apps, so that a user's own main can run it with only the user's apps
// registered.
var allowedImports = map[string][]string{
	"":                  {"apps", "cmd"},
	"cmd":               {"devserver", "internal/gcpace", "internal/suggest", "python", "reload", "reload/control", "reload/gobuild", "reload/pybuild", "reload/watch", "serve", "wsgi", "wsgi/validate"},
	"internal/gcpace":   nil,
	"internal/suggest":  nil,
	"internal/syncbuf":  nil,
	"internal/termsafe": nil,
	"internal/testkit":  {"internal/syncbuf"},
	"devserver":         {"internal/logbatch", "internal/recorder", "internal/termsafe", "wsgi"},
	"internal/logbatch": nil,
	"internal/recorder": nil,
	"apps":              {"wsgi"},
	"python":            {"internal/scratch", "wsgi"},
	"internal/scratch":  nil,
	"internal/tutorial": {"wsgi"},
	"reload":            {"reload/control"},
	"reload/control":    nil,
	"reload/watch":      {"reload"},
	"reload/gobuild":    {"internal/scratch", "reload", "reload/watch"},
	"reload/pybuild":    {"reload", "reload/watch"},
	"serve":             {"internal/gcpace", "internal/logbatch", "internal/recorder", "internal/scratch", "internal/suggest", "internal/termsafe", "reload", "reload/control", "wsgi", "wsgi/proxy"},
	"wsgi":              nil,
	"wsgi/proxy":        {"wsgi"},
	"wsgi/validate":     {"wsgi"},
	"wsgi/wsgitest":     {"internal/syncbuf", "wsgi"},
}

// TestImportDirection fails when a package imports one of the module's
// packages it should not, on any of the systems wsgo runs on.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not installed")
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for pkg, imports := range moduleImports(t, goos) {
			allowed, ok := allowedImports[pkg]
			if !ok {
				continue // tools and test support under internal/ and bench/
			}
			for _, imp := range imports {
				if !slices.Contains(allowed, imp) {
					t.Errorf("GOOS=%s: package %q imports %q; it may import only %q", goos, pkg, imp, allowed)
				}
			}
		}
	}
}

// moduleImports lists, for each package of the module, the module's
// packages it imports (test files left out), by their path in the module.
func moduleImports(t *testing.T, goos string) map[string][]string {
	t.Helper()
	c := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	c.Env = append(c.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
	out, err := c.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	all := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := inModule(fields[0])
		all[pkg] = []string{}
		for _, imp := range fields[1:] {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				all[pkg] = append(all[pkg], inModule(imp))
			}
		}
	}
	for pkg := range allowedImports {
		if _, ok := all[pkg]; !ok {
			t.Errorf("GOOS=%s: go list did not list package %q", goos, pkg)
		}
	}
	return all
}

// inModule is path relative to the module: "" for the module's root.
func inModule(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

// TestProductionLinksNoDevTools: the program wsgo build writes runs
// serve.Main, which must not link the watcher's file-system events or the
// go command's module code: a production binary carries what it uses.
func TestProductionLinksNoDevTools(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not installed")
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		c := exec.Command("go", "list", "-deps", module+"/serve")
		c.Env = append(c.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := c.Output()
		if err != nil {
			t.Fatalf("go list -deps: %v", err)
		}
		for dep := range strings.Lines(string(out)) {
			dep = strings.TrimSpace(dep)
			for _, banned := range []string{"github.com/fsnotify/", "golang.org/x/mod/", module + "/reload/watch", module + "/reload/gobuild"} {
				if strings.HasPrefix(dep, banned) || dep+"/" == banned {
					t.Errorf("GOOS=%s: the production server links %s", goos, dep)
				}
			}
		}
	}
}
