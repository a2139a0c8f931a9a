//go:build unix

package reload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scriptBuilder is a Builder for a language with no compiler, the way a
// Python app is served: the "source" is a file of one line, "serve:TEXT";
// a build checks it and runs an interpreter (the test binary itself) on it,
// without writing any file. The program's ID is the source's digest, so an
// unchanged source starts nothing.
type scriptBuilder struct {
	interpreter string
	source      string
}

func (b *scriptBuilder) Build(ctx context.Context) (*Program, error) {
	src, err := os.ReadFile(b.source)
	if err != nil {
		return nil, err
	}
	line := strings.TrimSpace(string(src))
	if !strings.HasPrefix(line, "serve:") {
		return nil, &BuildError{Command: "check " + filepath.Base(b.source), Output: "app.fake:1: want serve:TEXT, got " + line}
	}
	sum := sha256.Sum256(src)
	return &Program{
		Argv: []string{b.interpreter},
		Env:  []string{envFake + "=" + line},
		ID:   hex.EncodeToString(sum[:]),
	}, nil
}

// TestScriptLanguageBuilder drives the real supervisor with a builder that
// is not Go's: a change swaps, a failing check shows the error page while
// nothing is built, the fix recovers, an unchanged source starts nothing,
// and the interpreter, which is not the supervisor's, is never removed.
func TestScriptLanguageBuilder(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(t.TempDir(), "app.fake")
	save := func(text string) {
		t.Helper()
		if err := os.WriteFile(source, []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save("serve:one")
	h := supervise(t, nil, &scriptBuilder{interpreter: self, source: source}, nil)
	h.log.wait(t, "Ready in", 1)
	waitBody(t, h.url, "one")

	save("serve:two")
	h.changes <- Change{Paths: []string{"app.fake"}}
	h.log.wait(t, "Ready in", 2)
	waitBody(t, h.url, "two")

	save("sreve:three")
	h.changes <- Change{Paths: []string{"app.fake"}}
	h.log.wait(t, "Build failed", 1)
	waitBody(t, h.url, "want serve:TEXT, got sreve:three")

	save("serve:three")
	h.changes <- Change{Paths: []string{"app.fake"}}
	h.log.wait(t, "Ready in", 3)
	waitBody(t, h.url, "three")

	h.changes <- Change{Paths: []string{"app.fake"}} // saved again, unchanged
	h.log.wait(t, "No change to the program", 1)
	if _, err := os.Stat(self); err != nil {
		t.Fatalf("the supervisor removed a program that was not its own: %v", err)
	}
	if err := h.stop(t); err != nil {
		t.Fatal(err)
	}
}
