package watch

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wsgo/wsgo/internal/testkit"
)

// TestPollingTurnsOnByItselfOnEventlessFileSystems: a tree, or another
// module's, on a file system that does not report changes made elsewhere
// is polled; one on a local disk is watched by events.
func TestPollingTurnsOnByItselfOnEventlessFileSystems(t *testing.T) {
	parent := t.TempDir()
	root, lib := filepath.Join(parent, "app"), filepath.Join(parent, "lib")
	testkit.WriteFile(t, filepath.Join(root, "main.go"), "package main")
	testkit.WriteFile(t, filepath.Join(lib, "lib.go"), "package lib")
	cases := []struct {
		on    string // the tree on the file system
		magic int64
		want  string // "" for events
	}{
		{root, unix.NFS_SUPER_MAGIC, "NFS"},
		{root, unix.CIFS_SUPER_MAGIC, "CIFS"},
		{root, unix.SMB2_SUPER_MAGIC, "SMB"},
		{root, unix.FUSE_SUPER_MAGIC, "FUSE"},
		{root, unix.V9FS_MAGIC, "9p"},
		{root, vboxsfMagic, "VirtualBox"},
		{lib, unix.FUSE_SUPER_MAGIC, lib + " is on a FUSE"},
		{root, unix.EXT4_SUPER_MAGIC, ""},
		{root, unix.OVERLAYFS_SUPER_MAGIC, ""},
		{root, unix.TMPFS_MAGIC, ""},
	}
	for _, c := range cases {
		fsType := func(p string) (int64, error) {
			if p == c.on {
				return c.magic, nil
			}
			return unix.EXT4_SUPER_MAGIC, nil
		}
		w, err := New(root, Options{Rules: testRules, Modules: []string{lib}, fsType: fsType})
		if err != nil {
			t.Fatal(err)
		}
		every, why := w.Polling()
		w.Close()
		switch {
		case c.want == "" && every != 0:
			t.Errorf("magic %#x: polls (%s); want events", c.magic, why)
		case c.want != "" && (every != DefaultPoll || !strings.Contains(why, c.want) || !strings.Contains(why, "does not report changes")):
			t.Errorf("magic %#x: Polling() = %v, %q; want every %v, naming %s", c.magic, every, why, DefaultPoll, c.want)
		}
	}
}
