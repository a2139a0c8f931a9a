package devserver

import (
	"go/build"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Problem returns a handler that answers every request with 500 and the
// report of why no app can serve: a build's compiler output, a server's
// crash, a Python app's import error; its first line the title. Clients on this machine see it, browsers as an HTML page with each
// file:line marked and linked to [DefaultEditor], and the source around it;
// anyone else sees only the status, as with an app's failure.
func Problem(report string) http.Handler { return Pages{}.Problem(report) }

// Problem is the package's [Problem], its links opening p.Editor and its
// relative paths read from p.Dir.
func (p Pages) Problem(report string) http.Handler {
	title, detail, _ := strings.Cut(clip(report, maxOutput), "\n")
	title = clip(title, maxMessage)
	detail = strings.TrimLeft(detail, "\n")
	dir := p.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	page := failurePage{
		Title:      title,
		Detail:     detail,
		DetailHTML: p.linkFileLines(detail, dir),
		Sources:    p.sources(detail, dir),
		Footer:     time.Now().Format("15:04:05") + " · wsgo serves this page, only to clients on this machine, until a save fixes it: then this page reloads itself (or reload it).",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeFailure(w, r, page)
	})
}

// sources returns the source around each file:line of a build's output
// that can be read, each once, the first maxExcerpts of them. A crash's
// stack names the runtime's files and the dependencies' too: only files
// outside GOROOT and the module cache are shown.
func (p Pages) sources(output, dir string) []pageSource {
	var out []pageSource
	seen := map[string]bool{}
	for _, m := range fileLine.FindAllStringSubmatch(output, -1) {
		if len(out) == maxExcerpts {
			break
		}
		file := resolve(m[1], dir)
		line, _ := strconv.Atoi(m[2])
		key := file + ":" + m[2]
		if file == "" || seen[key] || notTheUsers(file) {
			continue
		}
		seen[key] = true
		src := excerpt(file, line, sourceAround)
		if src == nil {
			continue
		}
		out = append(out, pageSource{Where: m[0], URL: template.URL(p.Editor.URL(file, line)), Source: src})
	}
	return out
}

// resolve returns the absolute path of a file named in a build's output or
// a stack: as it is if absolute, else from dir, where the go command ran.
// It returns "" if no such file exists.
func resolve(name, dir string) string {
	if !filepath.IsAbs(name) {
		if dir == "" {
			return ""
		}
		name = filepath.Join(dir, name)
	}
	if fi, err := os.Stat(name); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return name
}

// notTheUsers reports whether file is Go's own or a dependency's, as found
// in GOROOT or the module cache.
func notTheUsers(file string) bool {
	dirs := []string{build.Default.GOROOT}
	for _, p := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(p, "pkg", "mod"))
	}
	if c := os.Getenv("GOMODCACHE"); c != "" {
		dirs = append(dirs, c)
	}
	for _, d := range dirs {
		if d != "" && strings.HasPrefix(file, filepath.Clean(d)+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
