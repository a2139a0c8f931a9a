package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"

	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/wsgi"
)

// completeApps completes registered app names, with their descriptions.
// In a user's module it never builds: the Tab key must answer at once.
func completeApps(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if c.Name() == "serve" && len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	if dir, ok := completionModule(); ok {
		for _, name := range projectApps(dir) {
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	for _, name := range wsgi.Names() {
		if strings.HasPrefix(name, toComplete) {
			e, _ := wsgi.Lookup(name)
			out = append(out, cobra.CompletionWithDesc(name, e.Description))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completionModule returns the root of the module wsgo runs in when its apps are
// not this binary's own, as locate decides, but without the go command.
func completionModule() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	dir, ok := gobuild.ModuleRoot(wd)
	if !ok {
		return "", false
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", false
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil || f.Module == nil || f.Module.Mod.Path == gobuild.Wsgo || f.Module.Mod.Path == ownModule() {
		return "", false
	}
	// A module that does not require wsgo has none of its apps: the
	// built-in ones are what wsgo serves there.
	return dir, slices.ContainsFunc(f.Require, func(r *modfile.Require) bool { return r.Mod.Path == gobuild.Wsgo })
}

// projectApps are the apps of the module at dir as the last build that
// listed them knew, if no file the build reads has changed since; else
// the names its source registers with a string literal.
func projectApps(dir string) []string {
	fp, files := fingerprint(dir)
	if names, ok := cachedApps(dir, fp); ok {
		return names
	}
	return scanApps(files)
}

// fingerprint sums the name, size and modification time of every file at
// or below dir that a build reads (as a watcher counts them: Go source,
// go.mod, go.sum, go.work), not below another module, and returns it with
// the Go files.
func fingerprint(dir string) (string, []string) {
	h := sha256.New()
	var goFiles []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(name, ".") || gobuild.Rules.SkipDir(name) || name == "vendor" || isModule(p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !gobuild.Rules.Source(name) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", p, info.Size(), info.ModTime().UnixNano())
		if strings.HasSuffix(name, ".go") {
			goFiles = append(goFiles, p)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), goFiles
}

func isModule(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// registered finds wsgi.Register("name", …) and Register("name", …).
var registered = regexp.MustCompile(`\bRegister\(\s*"([^"\\]+)"`)

// scanApps lists the names files register with a string literal, sorted:
// what completion offers before any build has listed the apps.
func scanApps(files []string) []string {
	var names []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(src), `"github.com/wsgo/wsgo/wsgi"`) {
			continue
		}
		for _, m := range registered.FindAllSubmatch(src, -1) {
			if name := string(m[1]); !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// appCache is what a build of a module's program knew of its apps.
type appCache struct {
	Dir         string   `json:"dir"`
	Fingerprint string   `json:"fingerprint"`
	Apps        []string `json:"apps"`
}

// appCachePath is the cache file of the module at dir, under the user's
// cache directory.
func appCachePath(dir string) (string, error) {
	root, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(root, "wsgo", "apps-"+hex.EncodeToString(sum[:8])+".json"), nil
}

func cachedApps(dir, fp string) ([]string, bool) {
	path, err := appCachePath(dir)
	if err != nil {
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var c appCache
	if json.Unmarshal(data, &c) != nil || c.Dir != dir || c.Fingerprint != fp {
		return nil, false
	}
	return c.Apps, true
}

// rememberApps keeps the apps a build of the module at dir serves, for
// completion, with the fingerprint taken before that build began: a file
// changed during it leaves the cache stale, never wrong. Failing to write
// it costs only slower completion, and is not told.
func rememberApps(dir, fp string, apps []string) {
	path, err := appCachePath(dir)
	if err != nil {
		return
	}
	data, err := json.Marshal(appCache{Dir: dir, Fingerprint: fp, Apps: apps})
	if err != nil || os.MkdirAll(filepath.Dir(path), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".apps-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(data)
	if tmp.Close() != nil || err != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}
