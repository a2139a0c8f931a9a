package gobuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// module writes a module that does not require wsgo into a new directory.
func module(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNotRequiredFromAClone: where the go command cannot fetch wsgo (here
// the proxy is off, as it is for a module not published yet), the message
// for a module that does not require wsgo gives the steps that work, from
// the clone this test runs in, and not go get alone, which would fail.
func TestNotRequiredFromAClone(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	_, err := Find(module(t))
	var nr *NotRequiredError
	if !errors.As(err, &nr) {
		t.Fatalf("Find: %v, want a NotRequiredError", err)
	}
	root, _ := filepath.Abs("../..")
	msg := err.Error()
	for _, want := range []string{
		"module example.com/other does not require github.com/wsgo/wsgo, and the go command cannot fetch it (",
		"GOPROXY=off",
		"add it from a clone of wsgo with: go mod edit -replace github.com/wsgo/wsgo=" + root + " && go get github.com/wsgo/wsgo@v0.0.0",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
}

// TestNotRequiredFetchable: where the go command can fetch wsgo (here from
// a proxy in a directory), the message says go get.
func TestNotRequiredFetchable(t *testing.T) {
	proxy := t.TempDir()
	at := filepath.Join(proxy, "github.com", "wsgo", "wsgo", "@v")
	files := map[string]string{
		"list":        "v0.1.0\n",
		"v0.1.0.info": `{"Version":"v0.1.0","Time":"2026-01-01T00:00:00Z"}`,
		"v0.1.0.mod":  "module github.com/wsgo/wsgo\n",
	}
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(at, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy))
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	want := "module example.com/other does not require github.com/wsgo/wsgo; add it with: go get github.com/wsgo/wsgo"
	if _, err := Find(module(t)); err == nil || err.Error() != want {
		t.Errorf("Find: %v\nwant %s", err, want)
	}
}
