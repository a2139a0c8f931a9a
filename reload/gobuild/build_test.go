//go:build unix

package gobuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/reload/watch"
)

// TestProgramID reads the build id the go command stamped into this very
// test binary, as `go tool buildid` prints it.
func TestProgramID(t *testing.T) {
	self, _ := os.Executable()
	id := ProgramID(self)
	if strings.Count(id, "/") < 1 {
		t.Fatalf("ProgramID(test binary) = %q, want a go build id", id)
	}
	out, err := exec.Command("go", "tool", "buildid", self).Output()
	if err != nil {
		t.Skipf("go tool buildid: %v", err)
	}
	if want := strings.TrimSpace(string(out)); id != want {
		t.Errorf("programID = %q, go tool buildid says %q", id, want)
	}
	script := filepath.Join(t.TempDir(), "server")
	os.WriteFile(script, []byte("#!/bin/sh\nexec true\n"), 0o755)
	if ProgramID(script) != "" {
		t.Error("a shell script has a build id")
	}
}

// TestBuildDoesNotWaitForEmbeds: the go list that finds //go:embed files
// after a build runs beside the new server's start, not before it. A fake
// go command's list waits until the test releases it, which the test does
// only once Build has returned.
func TestBuildDoesNotWaitForEmbeds(t *testing.T) {
	bin, dir := t.TempDir(), t.TempDir()
	listed, release := filepath.Join(dir, "listed"), filepath.Join(dir, "release")
	script := `#!/bin/sh
case "$1" in
list)
	i=0
	while [ ! -e "` + release + `" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
	: > "` + listed + `" ;;
build) : > "$3" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	defer os.WriteFile(release, nil, 0o644)
	w, err := watch.New(dir, watch.Options{Rules: Rules})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b, err := NewBuilder(Source{Root: dir, Package: "."})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Watcher = w
	if _, err := b.build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(listed); err == nil {
		t.Error("Build returned only after go list had finished")
	}
}

// TestCloseStopsTheLookForEmbeds: Close interrupts the go list that looks
// for //go:embed files and waits for it, so that none outlives wsgo.
func TestCloseStopsTheLookForEmbeds(t *testing.T) {
	bin, dir := t.TempDir(), t.TempDir()
	started := filepath.Join(dir, "started")
	script := `#!/bin/sh
echo $$ > "` + started + `.tmp" && mv "` + started + `.tmp" "` + started + `"
i=0
while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
`
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	w, err := watch.New(dir, watch.Options{Rules: Rules})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b, err := NewBuilder(Source{Root: dir, Package: "."})
	if err != nil {
		t.Fatal(err)
	}
	b.Watcher = w
	b.FindEmbeds()
	var pid []byte
	for i := 0; i < 300 && len(pid) == 0; i++ {
		pid, _ = os.ReadFile(started)
		time.Sleep(10 * time.Millisecond)
	}
	if len(pid) == 0 {
		t.Fatal("go list never started")
	}
	closed := make(chan struct{})
	go func() { b.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(string(pid))); syscall.Kill(n, 0) == nil {
		syscall.Kill(n, syscall.SIGKILL)
		t.Errorf("go list (pid %d) still runs after Close", n)
	}
}
