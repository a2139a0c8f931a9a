package wsgi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportingWsgiRegistersNothing builds and runs a program whose only
// import of wsgo is package wsgi, against this checkout: its registry is
// empty. wsgo's built-in apps come only with wsgo's own main package, so a
// user's module may name its first app "hello".
func TestImportingWsgiRegistersNothing(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal("the go command is not installed, and WSGO_NO_SKIP is set")
		}
		t.Skip("the go command is not installed")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"go.mod": "module example.com/empty\n\ngo 1.25\n\nrequire github.com/wsgo/wsgo v0.0.0\n\nreplace github.com/wsgo/wsgo => " + repo + "\n",
		"go.sum": string(sum),
		"main.go": `package main

import (
	"fmt"

	"github.com/wsgo/wsgo/wsgi"
)

func main() { fmt.Printf("registered: %q\n", wsgi.Names()) }
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, goCmd, "run", ".")
	c.Dir = dir
	c.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "registered: []" {
		t.Errorf("a program importing only wsgi has apps registered: %s", got)
	}
}
