package cmd

import (
	"cmp"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/internal/suggest"
)

// suggestCommand returns the subcommand of c that name most likely
// misspells or abbreviates, or "". cobra finds the candidates; of several,
// the closest wins rather than the first in alphabetical order.
func suggestCommand(c *cobra.Command, name string) string {
	found := c.SuggestionsFor(name)
	if len(found) == 0 {
		return ""
	}
	return slices.MinFunc(found, func(a, b string) int {
		return cmp.Compare(suggest.Distance(name, a), suggest.Distance(name, b))
	})
}

// sourceRegistering returns the file of the module around the working
// directory that registers an app called name, or "": when this binary does
// not know the name, it was built from older source, or from a main package
// that does not import that file's package. Tests, hidden directories,
// testdata, vendor and nested modules are not searched.
func sourceRegistering(name string) string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	root, ok := moduleRoot(wd)
	if !ok {
		return ""
	}
	call := regexp.MustCompile(`\bRegister\(\s*"` + regexp.QuoteMeta(name) + `"`)
	var found string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // unreadable: search the rest
		case d.IsDir():
			return skipDir(root, path, d.Name())
		case !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go"):
			return nil
		}
		if src, err := os.ReadFile(path); err == nil && call.Match(src) {
			found, _ = filepath.Rel(wd, path)
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// skipDir tells WalkDir to pass over the directories whose files are not
// part of the module's build.
func skipDir(root, path, name string) error {
	if path == root {
		return nil
	}
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
		return filepath.SkipDir
	}
	return nil
}
