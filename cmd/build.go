package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/reload/gobuild"
)

func newBuild() *cobra.Command {
	var out string
	var debugInfo bool
	c := &cobra.Command{
		Use:   "build [-o FILE]",
		Short: "Build the production server of this module's apps",
		Long: `Build one program that serves the apps of the module wsgo runs in, for
production: the safe gateway (a failing app costs its client a plain 500,
never a stack), no reload, no live reload, no validator. For an app that
keeps the contract, it answers as wsgo serve --no-reload does, with an
X-Request-Id header more; a response that breaks wsgiref.validate's rules
(no Content-Type, say) gets 500 from wsgo serve but goes out as the app made
it, and a failing app costs every client a bare 500, never the error page.

Run it as ./FILE [flags] [APP]: APP may be left out when the module has one
app; -host and -port (or WSGO_HOST and WSGO_PORT) say where to listen, -mount
PREFIX=APP serves more apps below prefixes, and a socket passed under the
LISTEN_FDS convention (systemd socket activation) is served instead of
binding one. SIGTERM drains it; see docs/production.md.`,
		Example: `  wsgo build
  wsgo build -o bin/site && ./bin/site hello --port 8080`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runBuild(c, out, debugInfo)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (default: the last element of the module path)")
	c.Flags().BoolVar(&debugInfo, "debug-info", false, "keep the full file paths of the build machine in stack traces")
	return c
}

// runBuild writes the production program of the module wsgo runs in to
// out, after checking that it starts and serves an app.
func runBuild(c *cobra.Command, out string, debugInfo bool) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	m, err := gobuild.Find(wd)
	if errors.Is(err, gobuild.ErrNoModule) {
		add, _ := gobuild.HowToAdd(wd)
		return &usageError{err: errors.New("no go.mod here or above: wsgo build builds the apps of a Go module"),
			hint: "Run it in the module, or start one with: go mod init example.com/site && " + add}
	}
	if err != nil {
		return usageErrorf("%v", err)
	}
	if m.Path == gobuild.Wsgo {
		m.Apps = []string{gobuild.Wsgo + "/apps"} // the built-ins
	}
	if out == "" {
		out = programName(m.Path)
	}
	var flags []string
	if !debugInfo {
		flags = append(flags, "-trimpath")
	}
	exe, done, err := buildProgram(c.Context(), m, gobuild.Production, flags)
	if err != nil {
		return err
	}
	defer done()
	// Checked before it goes anywhere: a program that cannot even
	// list its apps must not replace one that runs.
	list, err := exec.Command(exe, "-list").Output()
	if err != nil {
		return fmt.Errorf("the built program fails as it starts, so %s was not written: %w", out, withStderr(err))
	}
	names := strings.Fields(string(list))
	if len(names) == 0 {
		return fmt.Errorf("the built program serves no app, so %s was not written: do the packages %s call wsgi.Register?", out, strings.Join(m.Apps, ", "))
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		out = filepath.Join(out, programName(m.Path)) // as go build -o DIR does
	}
	if err := copyFile(exe, out); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s, which serves %s\nRun it: %s %s --port 8000\n",
		out, strings.Join(names, ", "), runPath(out), names[0])
	return nil
}

// copyFile writes a copy of the executable src at dst.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	// A new file renamed into place: a running server keeps its own, and an
	// upgrade never starts a half-written one.
	tmp := dst + ".wsgo-new"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return fmt.Errorf("wsgo build: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("wsgo build: %w", err)
	}
	return nil
}

// runPath is how to run the program at p from here: ./site, not site.
func runPath(p string) string {
	if filepath.IsAbs(p) || strings.ContainsRune(p, filepath.Separator) {
		return p
	}
	return "." + string(filepath.Separator) + p
}

// programName names a module's program as go build names a main package's:
// the last element of its path, but the one before a major version suffix.
func programName(module string) string {
	base := path.Base(module)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		if parent := path.Base(path.Dir(module)); parent != "." && parent != "/" {
			return parent
		}
	}
	return base
}
