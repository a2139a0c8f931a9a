package python

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakePython writes a script that answers the version probe with version.
func fakePython(t *testing.T, dir, version string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	path := filepath.Join(dir, "python")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFindInterpreterOrder: explicit, then WSGO_PYTHON, VIRTUAL_ENV, the
// project's .venv, and python3 on PATH.
func TestFindInterpreterOrder(t *testing.T) {
	root := t.TempDir()
	explicit := fakePython(t, filepath.Join(root, "explicit"), "3.12.1")
	env := fakePython(t, filepath.Join(root, "env"), "3.11.0")
	venv := fakePython(t, filepath.Join(root, "venv", "bin"), "3.10.2")
	proj := filepath.Join(root, "proj")
	dotvenv := fakePython(t, filepath.Join(proj, ".venv", "bin"), "3.9.0")
	onPath := filepath.Join(root, "path")
	fakePython(t, onPath, "3.13.0")
	os.Rename(filepath.Join(onPath, "python"), filepath.Join(onPath, "python3"))
	t.Setenv("PATH", onPath)
	ctx := context.Background()

	check := func(explicitArg, wantPath, wantSource, wantVersion string) {
		t.Helper()
		in, err := FindInterpreter(ctx, explicitArg, proj)
		if err != nil {
			t.Fatal(err)
		}
		if in.Path != wantPath || in.Source != wantSource || in.Version != wantVersion {
			t.Errorf("FindInterpreter = %+v; want %s from %s, %s", in, wantPath, wantSource, wantVersion)
		}
	}
	t.Setenv("WSGO_PYTHON", env)
	t.Setenv("VIRTUAL_ENV", filepath.Join(root, "venv"))
	check(explicit, explicit, "--python", "3.12.1")
	check("", env, "WSGO_PYTHON", "3.11.0")
	t.Setenv("WSGO_PYTHON", "")
	check("", venv, "VIRTUAL_ENV", "3.10.2")
	t.Setenv("VIRTUAL_ENV", "")
	check("", dotvenv, ".venv", "3.9.0")
	os.RemoveAll(filepath.Join(proj, ".venv"))
	check("", filepath.Join(onPath, "python3"), "PATH", "3.13.0")
}

// TestFindInterpreterErrors: each failure is one sentence saying what to do.
func TestFindInterpreterErrors(t *testing.T) {
	root := t.TempDir()
	old := fakePython(t, filepath.Join(root, "old"), "3.8.10")
	notPython := fakePython(t, filepath.Join(root, "other"), "hello")
	t.Setenv("WSGO_PYTHON", "")
	t.Setenv("VIRTUAL_ENV", "")
	t.Setenv("PATH", t.TempDir())
	ctx := context.Background()
	tests := []struct {
		explicit string
		env      map[string]string
		want     []string
	}{
		{old, nil, []string{"is Python 3.8.10, and wsgo needs Python 3.9 or newer", "WSGO_PYTHON"}},
		{notPython, nil, []string{"does not run as Python", `printed "hello"`}},
		{"/nonexistent/python3", nil, []string{`"/nonexistent/python3" was not found`, "give the path"}},
		{"", map[string]string{"WSGO_PYTHON": "/nonexistent/py"}, []string{"WSGO_PYTHON names", "unset it"}},
		{"", map[string]string{"VIRTUAL_ENV": root}, []string{"VIRTUAL_ENV is " + root + ", but it has no bin/python"}},
		{"", nil, []string{"no Python found", "install Python 3.9 or newer"}},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		_, err := FindInterpreter(ctx, tt.explicit, root)
		for k := range tt.env {
			t.Setenv(k, "")
		}
		if err == nil {
			t.Errorf("FindInterpreter(%q, %v) succeeded", tt.explicit, tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("FindInterpreter(%q, %v) = %v; want it to say %q", tt.explicit, tt.env, err, w)
			}
		}
		if strings.Count(strings.TrimSuffix(err.Error(), "."), ". ") > 0 || strings.Contains(err.Error(), "\n") {
			t.Errorf("not one sentence: %v", err)
		}
	}
}
