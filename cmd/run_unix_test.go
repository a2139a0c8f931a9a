//go:build unix

package cmd

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/serve"
)

// TestRunSaysImportIsSlow: an import that takes long is not silent: the
// log says it is still going on, and a stop meanwhile says it stopped the
// loading, not that the loading ran out of time.
func TestRunSaysImportIsSlow(t *testing.T) {
	py := needPython(t)
	dir := testkit.Tree(t, map[string]string{"app.py": "open('GATE').readline()\n\ndef app(environ, start_response):\n    pass\n"})
	if err := syscall.Mkfifo(filepath.Join(dir, "GATE"), 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	t.Chdir(dir)
	defer func(p time.Duration) { importPatience = p }(importPatience)
	importPatience = 50 * time.Millisecond

	var out syncbuf.Buffer
	logger := log.New(&out, "", 0)
	o := &runOptions{python: py, workers: 1, threads: 1}
	if _, err := o.check([]string{"app.py:app"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := o.start(ctx, "app.py:app", serve.Logs{Info: logger, Error: logger, Stdout: &out, Stderr: &out})
		done <- err
	}()
	// The import is under way once it has opened the pipe to read.
	gate, err := os.OpenFile(filepath.Join(dir, "GATE"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close()
	testkit.WaitForLog(t, &out, "app.py:app: still importing after 50ms")
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stopped while the app was still loading") {
			t.Errorf("stopped during the import: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a stop during the import did not end the start")
	}
}
