package scratch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestStaleBuildDirectoriesAreSwept(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// A pid that cannot be running: the kernel's maximum is below it.
	stale := filepath.Join(tmp, "wsgo-99999999-123")
	os.MkdirAll(filepath.Join(stale, "work"), 0o755)
	os.WriteFile(filepath.Join(stale, Marker), nil, 0o600)
	// Look-alikes of a gone process that wsgo did not make stay.
	notes := filepath.Join(tmp, "wsgo-99999999-notes")
	os.MkdirAll(notes, 0o755)
	os.WriteFile(filepath.Join(notes, Marker), nil, 0o600)
	unmarked := filepath.Join(tmp, "wsgo-99999999-456")
	os.MkdirAll(unmarked, 0o755)
	mine := filepath.Join(tmp, fmt.Sprintf("wsgo-%d-456", os.Getppid()))
	os.MkdirAll(mine, 0o755)
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the directory of a gone wsgo was left: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("the directory of a running wsgo was removed: %v", err)
	}
	for _, d := range []string{notes, unmarked} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s, not made by wsgo, was removed: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
		t.Errorf("the new directory is not marked as wsgo's: %v", err)
	}
}
