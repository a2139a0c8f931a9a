package python

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLoadErrors: each way an app can fail to load is a *LoadError of its
// kind whose message says what to do, with the user's frames when Python
// raised.
func TestLoadErrors(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{
		"syntax.py":       "x = 1\n\ndef f(:\n    pass\n",
		"imports.py":      "import os\nimport no_such_module_wsgo\n",
		"raises.py":       "def boom():\n    return 1 / 0\n\nboom()\n",
		"named.py":        "def application(environ, start_response):\n    pass\n",
		"config.py":       "settings = {'debug': True}\n",
		"nothing.py":      "x = 1\n",
		"factory.py":      "def create_app(name, debug=False):\n    raise RuntimeError('no config for ' + name)\n",
		"flaskish.py":     "class Flask:\n    def wsgi_app(self): pass\n    def __call__(self, e, s): pass\n\nserver = Flask()\n",
		"pkg/__init__.py": "",
		"pkg/site.py":     "from . import missing_sibling\n",
		"json.py":         "def app(environ, start_response):\n    pass\n",
		"my.site.py":      "def app(environ, start_response):\n    pass\n",
	})
	tests := []struct {
		target string
		kind   LoadErrorKind
		want   []string
	}{
		{"syntax.py", LoadSyntax, []string{"SyntaxError", "syntax.py:3:", "def f(:", "^"}},
		{"imports.py", LoadImport, []string{"importing imports failed: ModuleNotFoundError: No module named 'no_such_module_wsgo'; is 'no_such_module_wsgo' installed for /", "Another interpreter: --python", "imports.py:2 in <module>", "import no_such_module_wsgo"}},
		{"raises.py", LoadException, []string{"importing raises raised ZeroDivisionError: division by zero", "raises.py:4 in <module>", "raises.py:2 in boom", "return 1 / 0"}},
		{"missing.py", LoadMissingModule, []string{"missing.py does not exist"}},
		{"no_such_pkg.wsgi:app", LoadMissingModule, []string{"no module named 'no_such_pkg.wsgi'"}},
		{"named.py:aplication", LoadMissingCallable, []string{"named.py has no 'aplication'; did you mean 'application'? (named.py:application)"}},
		{"config.py:settings", LoadNotCallable, []string{"config.py:settings is a dict, not a callable"}},
		{"nothing.py", LoadMissingCallable, []string{"nothing.py has neither 'application' nor 'app'", "nothing.py:myapp"}},
		{"flaskish.py", LoadMissingCallable, []string{"as in flaskish.py:server"}},
		{"factory.py:create_app('shop')", LoadException, []string{"create_app('shop') raised RuntimeError: no config for shop", "factory.py:2 in create_app"}},
		{"factory.py:create_app(open('x'))", LoadBadTarget, []string{"must be Python literals"}},
		{"pkg/site.py", LoadImport, []string{"importing pkg.site failed: ImportError", "site.py:1 in <module>"}},
		{"json.py:app", LoadBadTarget, []string{"json.py has the name of another module, json (", "rename the file"}},
		{"my.site.py:app", LoadBadTarget, []string{"my.site.py cannot be imported: Python reads the dot in 'my.site' as a package's; rename it"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			e := loadError(t, dir, tt.target, Options{Threads: 1})
			if e.Kind != tt.kind {
				t.Errorf("kind %q; want %q: %v", e.Kind, tt.kind, e)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, e)
				}
			}
			if strings.Contains(e.Error(), "wsgo_worker.py") || strings.Contains(e.Error(), "importlib") {
				t.Errorf("the error shows wsgo's or importlib's frames:\n%v", e)
			}
		})
	}
}

// TestSyntaxErrorPosition: a SyntaxError carries its file, line and
// column, and the caret in the text is under the column.
func TestSyntaxErrorPosition(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{"app.py": "x = 1\n\nif x:\n    def f(:\n        pass\n"})
	e := loadError(t, dir, "app.py", Options{})
	if e.Exception == nil || e.Exception.Syntax == nil {
		t.Fatalf("no syntax position: %v", e)
	}
	s := e.Exception.Syntax
	if s.File != filepath.Join(dir, "app.py") || s.Line != 4 || s.Column < 1 || s.Column > len(s.Text) || s.Text[s.Column-1] != ':' {
		t.Errorf("position %+v", s)
	}
	if e.Exception.Type != "SyntaxError" {
		t.Errorf("type %q", e.Exception.Type)
	}
	if len(e.Exception.Frames) == 0 || !e.Exception.Frames[0].User || e.Exception.Frames[0].Line != 4 {
		t.Errorf("the innermost frame is not the user's line: %+v", e.Exception.Frames)
	}
	want := "\n    def f(:\n          ^" // the caret under the colon
	if !strings.Contains(e.Error(), want) || !strings.Contains(e.Error(), "app.py:4:"+strconv.Itoa(s.Column)+": ") {
		t.Errorf("the position or the caret is wrong:\n%s", e.Error())
	}
}

// TestMissingInterpreter: an interpreter that does not exist or is too old
// is a LoadError of one sentence.
func TestMissingInterpreter(t *testing.T) {
	dir := t.TempDir()
	old := fakePython(t, filepath.Join(dir, "old"), "3.8.2")
	for python, want := range map[string]string{
		filepath.Join(dir, "nope", "python3"): "was not found: give the path of a python3 executable",
		old:                                   "is Python 3.8.2, and wsgo needs Python 3.9 or newer",
	} {
		e := loadError(t, dir, "app.py", Options{Python: python})
		if e.Kind != LoadWorker || !strings.Contains(e.Error(), want) {
			t.Errorf("%s: %v", python, e)
		}
	}
}

// TestFactory: a factory is called with its literal arguments; a dotted
// name reaches an attribute.
func TestFactory(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{"shop/__init__.py": `
def create_app(name, greeting='hello'):
    def app(environ, start_response):
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [('%s from %s' % (greeting, name)).encode()]
    return app

class Holder:
    def app(self, environ, start_response):
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'method']

holder = Holder()
`})
	a := start(t, dir, `shop:create_app("dev", greeting='hi')`, Options{Threads: 1})
	if r := wsgiGet(a, "/"); r != "hi from dev" {
		t.Errorf("factory: %q", r)
	}
	a = start(t, dir, "shop:holder.app", Options{Threads: 1})
	if r := wsgiGet(a, "/"); r != "method" {
		t.Errorf("attribute: %q", r)
	}
}

// TestFileTargetSysPath: a file target imports its neighbours; one inside
// a package is imported as part of it, so relative imports work.
func TestFileTargetSysPath(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{
		"site/helpers.py":      "GREETING = b'neighbour'\n",
		"site/app.py":          "from helpers import GREETING\n\ndef app(e, s):\n    s('200 OK', [('Content-Type', 'text/plain')])\n    return [GREETING]\n",
		"proj/pkg/__init__.py": "",
		"proj/pkg/util.py":     "WORD = b'relative'\n",
		"proj/pkg/web.py":      "from .util import WORD\n\ndef app(e, s):\n    s('200 OK', [('Content-Type', 'text/plain')])\n    return [WORD]\n",
	})
	if r := wsgiGet(start(t, dir, "site/app.py", Options{Threads: 1}), "/"); r != "neighbour" {
		t.Errorf("file target: %q", r)
	}
	if r := wsgiGet(start(t, dir, "proj/pkg/web.py", Options{Threads: 1}), "/"); r != "relative" {
		t.Errorf("file in a package: %q", r)
	}
	if r := wsgiGet(start(t, filepath.Join(dir, "proj"), "pkg.web:app", Options{Threads: 1}), "/"); r != "relative" {
		t.Errorf("module target: %q", r)
	}
}

// TestTempFilesRemoved: the worker script's directory is gone after Close,
// and after a failed Start.
func TestTempFilesRemoved(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{"app.py": demoApp, "bad.py": "1/0\n"})
	a := start(t, dir, "app.py", Options{Threads: 1})
	tmp := a.tmp
	if _, err := os.Stat(filepath.Join(tmp, "wsgo_worker.py")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("%s is left after Close: %v", tmp, err)
	}
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("wsgo-%d-*", os.Getpid())))
	loadError(t, dir, "bad.py", Options{Threads: 1})
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("wsgo-%d-*", os.Getpid())))
	if len(after) > len(before) {
		t.Errorf("a failed start left a directory: %v, then %v", before, after)
	}
}
