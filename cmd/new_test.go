package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPackageName(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "store")
	os.MkdirAll(existing, 0o755)
	os.WriteFile(filepath.Join(existing, "x_test.go"), []byte("package store_test\n"), 0o644)
	os.WriteFile(filepath.Join(existing, "x.go"), []byte("// Package shop sells.\npackage shop\n"), 0o644)
	for dir, want := range map[string]string{
		existing:                          "shop", // the package clause wins over the directory's name
		filepath.Join(root, "widgets"):    "widgets",
		filepath.Join(root, "my-apps"):    "apps", // not an identifier
		filepath.Join(root, "apps", "v2"): "v2",
	} {
		if got := packageName(dir); got != want {
			t.Errorf("packageName(%s) = %q, want %q", dir, got, want)
		}
	}
}
