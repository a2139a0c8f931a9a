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
)

// suggest returns the candidate closest to name, if it is close enough to be
// a likely typo, or "".
func suggest(name string, candidates []string) string {
	best, bestDist := "", len(name)/2+2
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// suggestCommand returns the subcommand of c that name most likely
// misspells or abbreviates, or "". cobra finds the candidates; of several,
// the closest wins rather than the first in alphabetical order.
func suggestCommand(c *cobra.Command, name string) string {
	found := c.SuggestionsFor(name)
	if len(found) == 0 {
		return ""
	}
	return slices.MinFunc(found, func(a, b string) int {
		return cmp.Compare(editDistance(name, a), editDistance(name, b))
	})
}

// editDistance is the Damerau–Levenshtein distance (with adjacent swaps)
// between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
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
