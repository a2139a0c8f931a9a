package devserver

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// editors are the editors [ParseEditor] knows by name, with the URL that
// opens a file at a line in each. {file} is the file's absolute path, which
// always begins with a slash ("/C:/src/x.go" on Windows), and {line} its
// line.
var editors = map[string]string{
	"vscode":  "vscode://file{file}:{line}",
	"cursor":  "cursor://file{file}:{line}",
	"idea":    "idea://open?file={file}&line={line}",
	"sublime": "subl://open?url=file://{file}&line={line}",
}

// DefaultEditor is the editor whose links the error pages show unless told
// otherwise.
const DefaultEditor = "vscode"

// An Editor makes the links of the error pages that open a file at a line
// in the user's editor. The zero Editor is [DefaultEditor]'s.
type Editor struct {
	template string // a URL with {file} and {line}; "" for the default
	off      bool   // "none": no links
}

// urlScheme is how a URL template must begin.
var urlScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

// ParseEditor returns the editor named s (see [EditorNames]), no editor for
// "none", or the editor whose links follow the URL template s, with {file}
// where the file's path goes and {line} where its line does, such as
// "zed://file{file}:{line}". The empty string is [DefaultEditor]. An
// error says what s should be, without repeating s.
func ParseEditor(s string) (Editor, error) {
	switch {
	case s == "":
		return Editor{}, nil
	case s == "none":
		return Editor{off: true}, nil
	case editors[s] != "":
		return Editor{template: editors[s]}, nil
	case !strings.Contains(s, "{file}"):
		return Editor{}, fmt.Errorf("want one of %s, none, or a URL template with {file} and {line}, such as %q", strings.Join(EditorNames(), ", "), editors[DefaultEditor])
	}
	switch scheme := strings.ToLower(urlScheme.FindString(s)); scheme {
	case "":
		return Editor{}, fmt.Errorf("a URL template begins with the editor's scheme, such as %q", editors[DefaultEditor])
	case "javascript:", "data:", "vbscript:":
		return Editor{}, fmt.Errorf("a link with the scheme %s opens no editor: use the editor's, such as %q", strings.TrimSuffix(scheme, ":"), editors[DefaultEditor])
	}
	return Editor{template: s}, nil
}

// EditorNames returns the names [ParseEditor] knows, sorted.
func EditorNames() []string {
	names := make([]string, 0, len(editors))
	for name := range editors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// URL returns the link that opens file at line, or "" when e makes no
// links. The file's path is escaped so that it stays one part of the URL,
// its slashes kept.
func (e Editor) URL(file string, line int) string {
	if e.off || file == "" {
		return ""
	}
	t := e.template
	if t == "" {
		t = editors[DefaultEditor]
	}
	return strings.NewReplacer("{file}", escapePath(file), "{line}", strconv.Itoa(line)).Replace(t)
}

// escapePath escapes a path for any part of a URL, a query's included,
// leaving its slashes and a Windows drive's colon as they are. The path
// begins with a slash, as a URL's does.
func escapePath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return strings.NewReplacer("%2F", "/", "%3A", ":", "+", "%20").Replace(url.QueryEscape(p))
}
