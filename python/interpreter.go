package python

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MinVersion is the oldest Python that runs the worker.
const MinVersion = "3.9"

var minMajor, minMinor = 3, 9

// An Interpreter is a Python that runs workers.
type Interpreter struct {
	Path    string // the executable, as found
	Version string // such as "3.11.7"
	// Source says how it was chosen: "--python", "WSGO_PYTHON",
	// "VIRTUAL_ENV", ".venv" or "PATH".
	Source string
}

// probeTimeout bounds asking an interpreter its version.
const probeTimeout = 15 * time.Second

// FindInterpreter picks the Python that runs a project's app, the first of:
// explicit (a path or a command name, as a --python flag gives it), the
// WSGO_PYTHON environment variable, the active virtual environment's
// (VIRTUAL_ENV/bin/python), the project's own .venv/bin/python (dir is the
// project directory), and python3 on PATH. It runs the interpreter once to
// learn its version, and refuses one older than [MinVersion]. Its errors
// are one sentence that says what to do.
func FindInterpreter(ctx context.Context, explicit, dir string) (Interpreter, error) {
	in, err := locate(explicit, dir)
	if err != nil {
		return Interpreter{}, err
	}
	in.Version, err = probe(ctx, in.Path)
	if err != nil {
		return Interpreter{}, fmt.Errorf("%s (%s) does not run as Python: %v; point WSGO_PYTHON (or --python) at a Python %s or newer", in.Path, in.Source, err, MinVersion)
	}
	if !versionAtLeast(in.Version, minMajor, minMinor) {
		return Interpreter{}, fmt.Errorf("%s (%s) is Python %s, and wsgo needs Python %s or newer: install a newer one, and point WSGO_PYTHON (or --python) at it", in.Path, in.Source, in.Version, MinVersion)
	}
	return in, nil
}

// locate finds the interpreter without running it.
func locate(explicit, dir string) (Interpreter, error) {
	if explicit != "" {
		return lookPath(explicit, "--python", "the Python interpreter %q was not found: give the path of a python3 executable")
	}
	if env := os.Getenv("WSGO_PYTHON"); env != "" {
		return lookPath(env, "WSGO_PYTHON", "WSGO_PYTHON names %q, which was not found: set it to the path of a python3 executable, or unset it")
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		path := filepath.Join(venv, "bin", "python")
		if isExecutable(path) {
			return Interpreter{Path: path, Source: "VIRTUAL_ENV"}, nil
		}
		return Interpreter{}, fmt.Errorf("VIRTUAL_ENV is %s, but it has no bin/python: activate a virtual environment that exists, or unset VIRTUAL_ENV", venv)
	}
	if dir == "" {
		dir = "."
	}
	if path, err := filepath.Abs(filepath.Join(dir, ".venv", "bin", "python")); err == nil && isExecutable(path) {
		return Interpreter{Path: path, Source: ".venv"}, nil
	}
	path, err := exec.LookPath("python3")
	if err != nil {
		return Interpreter{}, fmt.Errorf("no Python found (no python3 on PATH, no .venv in the project, no VIRTUAL_ENV): install Python %s or newer, or set WSGO_PYTHON to an interpreter's path", MinVersion)
	}
	return Interpreter{Path: path, Source: "PATH"}, nil
}

// lookPath resolves a path or a command name.
func lookPath(name, source, notFound string) (Interpreter, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return Interpreter{}, fmt.Errorf(notFound, name)
	}
	return Interpreter{Path: path, Source: source}, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// probe runs the interpreter and returns its version.
func probe(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			return "", fmt.Errorf("%v: %s", err, firstLine(string(exit.Stderr)))
		}
		return "", err
	}
	v := strings.TrimSpace(string(out))
	if !versionAtLeast(v, 0, 0) {
		return "", fmt.Errorf("it printed %q as its version", firstLine(v))
	}
	return v, nil
}

// versionAtLeast reports whether v, "X.Y.Z", is at least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return false
	}
	x, err1 := strconv.Atoi(parts[0])
	y, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return x > major || x == major && y >= minor
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
