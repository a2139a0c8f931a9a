package cmd

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// TestReadmeMatchesGoMod: README's install line names the module, and the
// Go version it asks for is go.mod's.
func TestReadmeMatchesGoMod(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if install := "go install " + mod.Module.Mod.Path + "@latest"; !strings.Contains(string(readme), install) {
		t.Errorf("README.md lacks %q", install)
	}
	m := regexp.MustCompile(`Go (1\.\d+) or\s+newer`).FindStringSubmatch(string(readme))
	if m == nil {
		t.Fatal(`README.md names no "Go 1.N or newer"`)
	}
	if want := regexp.MustCompile(`^\d+\.\d+`).FindString(mod.Go.Version); m[1] != want {
		t.Errorf("README.md asks for Go %s, go.mod for go %s", m[1], mod.Go.Version)
	}
}
