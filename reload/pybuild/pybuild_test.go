package pybuild

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsgo/wsgo/internal/testkit"
)

func digest(t *testing.T, root string) string {
	t.Helper()
	d, err := Digest(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDigestFollowsASymlinkedRoot: a project reached through a symbolic
// link is read where it leads, so that a save is not "No change".
func TestDigestFollowsASymlinkedRoot(t *testing.T) {
	real := testkit.Tree(t, map[string]string{"app.py": "VERSION = 1\n"})
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	before := digest(t, link)
	testkit.WriteFile(t, filepath.Join(real, "app.py"), "VERSION = 2\n")
	if digest(t, link) == before {
		t.Error("a save below a symlinked root left the digest as it was")
	}
}

// TestDigestCountsTheProjectOnly: a virtual environment, whatever its name,
// and caches do not count; a package in build/ does.
func TestDigestCountsTheProjectOnly(t *testing.T) {
	root := testkit.Tree(t, map[string]string{
		"app.py":           "import b\n",
		"build/b.py":       "B = 1\n",
		"myenv/pyvenv.cfg": "home = /usr/bin\n",
		"myenv/lib/python3.11/site-packages/x.py": "X = 1\n",
		"__pycache__/app.py":                      "\n",
	})
	before := digest(t, root)
	for _, ignored := range []string{"myenv/lib/python3.11/site-packages/x.py", "myenv/bin/activate_this.py", "__pycache__/app.py"} {
		testkit.WriteFile(t, filepath.Join(root, ignored), "CHANGED = 1\n")
		if digest(t, root) != before {
			t.Errorf("a change of %s counted", ignored)
		}
	}
	testkit.WriteFile(t, filepath.Join(root, "build/b.py"), "B = 2\n")
	if digest(t, root) == before {
		t.Error("a change of build/b.py, the project's, did not count")
	}
	for dir, skip := range map[string]bool{"myenv": true, "__pycache__": true, "build": false, "pkg.egg-info": true} {
		if got := Rules.SkipDir(filepath.Join(root, dir)); got != skip {
			t.Errorf("SkipDir(%s) = %v, want %v", dir, got, skip)
		}
	}
}
