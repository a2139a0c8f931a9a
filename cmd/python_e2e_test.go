//go:build unix

package cmd

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/testkit"
)

// demoApp is the tutorial's demo_app as README serves it: Python 3 (bytes
// in the body), spelt right.
var demoApp = func() string {
	data, err := os.ReadFile("../examples/python/demo_app.py")
	if err != nil {
		panic(err)
	}
	return string(data)
}()

// debianPython has Flask and Django as Debian packages; the python3 first
// on PATH may not.
const debianPython = "/usr/bin/python3"

// needPython skips a test without python3, unless CI says it must run.
func needPython(t *testing.T, modules ...string) string {
	t.Helper()
	e2e(t)
	py := "python3"
	if len(modules) > 0 {
		py = debianPython
	}
	args := []string{"-c", "import sys; assert sys.version_info >= (3, 9)"}
	if len(modules) > 0 {
		args = []string{"-c", "import " + strings.Join(modules, ", ")}
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		msg := py + " cannot run this test: " + strings.TrimSpace(string(out)) + " " + err.Error()
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// servePy runs wsgo serve in dir with args, and waits for its first server.
func servePy(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return servePyUntil(t, dir, "Ready in", args...)
}

// servePyUntil runs wsgo serve in dir with args, and waits until it says want.
func servePyUntil(t *testing.T, dir, want string, args ...string) *server {
	t.Helper()
	c := exec.Command(wsgoBin, append([]string{"serve"}, args...)...)
	c.Dir = dir
	s := startCmd(t, c)
	s.waitForOutput(t, want)
	return s
}

// TestPythonTutorialDemo: the tutorial's demo_app, from a .py file, answers
// as wsgiref serves it, and a save shows on the next request.
func TestPythonTutorialDemo(t *testing.T) {
	needPython(t)
	dir := testkit.Tree(t, map[string]string{"demo_app.py": demoApp})
	s := servePy(t, dir, "demo_app.py:demo_app", "--port", "0")
	want := "The request method was GET\nThe request path info was /get/prefix\nThe remote host was 127.0.0.1\nThe query string was ip=\n"
	if body := waitForBody(t, s.url+"/get/prefix?ip=", 200, "The request"); body != want {
		t.Fatalf("body %q, want %q", body, want)
	}
	testkit.WriteFile(t, filepath.Join(dir, "demo_app.py"), strings.Replace(demoApp, "The remote host was", "The client was", 1))
	waitForBody(t, s.url+"/", 200, "The client was 127.0.0.1")
	s.waitForOutput(t, "demo_app.py changed: starting new workers")
}

// TestPythonSavesDropNothing: saves under a steady client start new workers
// beside the old, and no request fails.
func TestPythonSavesDropNothing(t *testing.T) {
	needPython(t)
	app := func(n int) string {
		return "def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'v" + string(rune('0'+n)) + " ok']\n"
	}
	dir := testkit.Tree(t, map[string]string{"app.py": app(0)})
	s := servePy(t, dir, "app.py", "--port", "0")
	c := startClient(s.url + "/")
	c.waitFor(t, 20)
	for n := 1; n <= 3; n++ {
		testkit.WriteFile(t, filepath.Join(dir, "app.py"), app(n))
		waitForBody(t, s.url+"/", 200, "v"+string(rune('0'+n))+" ok")
		c.waitFor(t, 20)
	}
	c.end(t, "three saves of a Python app")
}

// TestPythonImportErrorsAndRecovery: a syntax error and an exception at
// import show the page with the traceback while the old version's socket
// stays served, and a save that fixes it brings the app back.
func TestPythonImportErrorsAndRecovery(t *testing.T) {
	needPython(t)
	good := "def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'fine']\n"
	dir := testkit.Tree(t, map[string]string{"app.py": good, "helper.py": "VALUE = 1\n"})
	s := servePy(t, dir, "app.py:app", "--port", "0")
	waitForBody(t, s.url+"/", 200, "fine")

	testkit.WriteFile(t, filepath.Join(dir, "app.py"), "def app(environ, start_response:\n    pass\n")
	body := waitForBody(t, s.url+"/", 500, "SyntaxError")
	for _, want := range []string{"The app could not be loaded", "app.py:1", "^"} {
		if !strings.Contains(body, want) {
			t.Errorf("the syntax error page lacks %q:\n%s", want, body)
		}
	}
	s.waitForOutput(t, "The app could not be loaded; the error page is served until a save fixes it")

	testkit.WriteFile(t, filepath.Join(dir, "app.py"), "import helper\nhelper.boom()\n"+good)
	body = waitForBody(t, s.url+"/", 500, "AttributeError")
	if !strings.Contains(body, "app.py:2") {
		t.Errorf("the import-time exception's page lacks the user's frame app.py:2:\n%s", body)
	}

	testkit.WriteFile(t, filepath.Join(dir, "app.py"), good)
	waitForBody(t, s.url+"/", 200, "fine")
}

// TestPythonMountedBesideGo: a Python app mounted below a prefix of a Go
// app's server, the migration path route by route.
func TestPythonMountedBesideGo(t *testing.T) {
	needPython(t)
	legacy := "def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [('legacy at %s%s' % (environ['SCRIPT_NAME'], environ['PATH_INFO'])).encode()]\n"
	dir := testkit.Tree(t, map[string]string{"legacy.py": legacy})
	s := servePy(t, dir, "demo", "--mount", "/legacy=legacy.py:app", "--port", "0")
	waitForBody(t, s.url+"/legacy/orders", 200, "legacy at /legacy/orders")
	waitForBody(t, s.url+"/get/prefix", 200, "The request path info was /get/prefix")
	if !strings.Contains(s.stderr.String(), `Serving Python app "legacy.py:app" below /legacy`) {
		t.Errorf("the banner does not name the Python app:\n%s", s.stderr)
	}
	// A save of the Python app shows, though the Go app is not rebuilt.
	testkit.WriteFile(t, filepath.Join(dir, "legacy.py"), strings.Replace(legacy, "legacy at", "saved at", 1))
	waitForBody(t, s.url+"/legacy/orders", 200, "saved at /legacy/orders")
}

// TestPythonMessages: each mistake is one sentence that says what to do.
func TestPythonMessages(t *testing.T) {
	needPython(t)
	dir := testkit.Tree(t, map[string]string{"demo_app.py": demoApp})
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "demo_ap.py"}, 2, "demo_ap.py: no such file; did you mean demo_app.py?"},
		{[]string{"serve", "demo_app.py:", "--port", "0"}, 2, "demo_app.py:"},
		{[]string{"serve", "demo_app.py", "--python", "/no/such/python"}, 2, `invalid --python "/no/such/python"`},
		{[]string{"serve", "demo_app.py", "--workers", "0"}, 2, "invalid --workers 0: want 1 or more worker processes"},
		{[]string{"serve", "demo_app.py", "--threads", "-1"}, 2, "invalid --threads -1: want 1 or more threads a worker"},
	} {
		c := exec.Command(wsgoBin, tt.args...)
		c.Dir = dir
		out, _ := c.CombinedOutput()
		if c.ProcessState.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
			t.Errorf("wsgo %v: exit %d, want %d and %q:\n%s", tt.args, c.ProcessState.ExitCode(), tt.code, tt.want, out)
		}
	}
	// A callable that is not there is an import of the app that failed,
	// which a save can fix: the page says what the module has.
	s := servePyUntil(t, dir, "The app could not be loaded", "demo_app.py:demo", "--port", "0")
	waitForBody(t, s.url+"/", 500, "demo_app")
}

const flaskApp = `from flask import Flask, render_template, request

app = Flask(__name__)


@app.route("/")
def index():
    return render_template("index.html", name="world")


@app.route("/form", methods=["POST"])
def form():
    return "got " + request.form["word"]


@app.route("/boom")
def boom():
    raise ValueError("the flask view failed")
`

// TestPythonFlask: a Flask app's form POST, template and static file;
// a view that raises reaches the dev page with the user's frame; a template
// save shows on the next load, with no restart.
func TestPythonFlask(t *testing.T) {
	py := needPython(t, "flask")
	dir := testkit.Tree(t, map[string]string{
		"app.py":               flaskApp,
		"templates/index.html": "<html><head><link rel=stylesheet href=/static/site.css></head><body>Hello, {{ name }}!</body></html>\n",
		"static/site.css":      "body { color: red }\n",
	})
	s := servePy(t, dir, "app.py", "--python", py, "--port", "0")
	waitForBody(t, s.url+"/", 200, "Hello, world!")
	waitForBody(t, s.url+"/static/site.css", 200, "color: red")
	res, err := http.PostForm(s.url+"/form", map[string][]string{"word": {"café"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("POST /form: %d", res.StatusCode)
	}
	body := waitForBody(t, s.url+"/boom", 500, "ValueError")
	if !strings.Contains(body, "the flask view failed") || !strings.Contains(body, "app.py:18") {
		t.Errorf("the panic page lacks the exception or the user's frame:\n%s", body)
	}
	testkit.WriteFile(t, filepath.Join(dir, "templates/index.html"), "<html><body>Goodbye, {{ name }}!</body></html>\n")
	waitForBody(t, s.url+"/", 200, "Goodbye, world!")
	s.waitForOutput(t, "templates/index.html changed: reloading the pages, no build")
	if strings.Count(s.stderr.String(), "Ready in") != 1 {
		t.Errorf("a template save restarted the app:\n%s", s.stderr)
	}
}

// TestPythonDjango: a minimal Django project served from its wsgi.py
// module; a view edit reloads.
func TestPythonDjango(t *testing.T) {
	py := needPython(t, "django")
	dir := t.TempDir()
	out, err := exec.Command(py, "-m", "django", "startproject", "site1", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("django startproject: %v\n%s", err, out)
	}
	view := func(text string) string {
		return "from django.http import HttpResponse\n\n\ndef hello(request):\n    return HttpResponse(" + `"` + text + `"` + ")\n"
	}
	testkit.WriteFile(t, filepath.Join(dir, "site1", "views.py"), view("django one"))
	urls, err := os.ReadFile(filepath.Join(dir, "site1", "urls.py"))
	if err != nil {
		t.Fatal(err)
	}
	routes := strings.Replace(string(urls), "urlpatterns = [", "from site1 import views\n\nurlpatterns = [\n    path('hello/', views.hello),", 1)
	testkit.WriteFile(t, filepath.Join(dir, "site1", "urls.py"), routes)
	c := exec.Command(wsgoBin, "serve", "site2.wsgi")
	c.Dir = dir
	if out, _ := c.CombinedOutput(); !strings.Contains(string(out), `unknown app "site2.wsgi": no Go app has that name, and there is no Python module site2.wsgi here (site2/wsgi.py)`) {
		t.Errorf("a module that is not there:\n%s", out)
	}
	s := servePy(t, dir, "site1.wsgi", "--python", py, "--port", "0") // its application
	waitForBody(t, s.url+"/hello/", 200, "django one")
	testkit.WriteFile(t, filepath.Join(dir, "site1", "views.py"), view("django two"))
	waitForBody(t, s.url+"/hello/", 200, "django two")
}

// TestPythonRoutes: wsgo routes lists a Flask app's rules.
func TestPythonRoutes(t *testing.T) {
	py := needPython(t, "flask")
	dir := testkit.Tree(t, map[string]string{"app.py": flaskApp, "templates/index.html": "x"})
	c := exec.Command(wsgoBin, "routes", "app.py", "--python", py)
	c.Dir = dir
	done := make(chan struct{})
	timer := time.AfterFunc(60*time.Second, func() { c.Process.Kill() })
	defer timer.Stop()
	out, err := c.CombinedOutput()
	close(done)
	if err != nil {
		t.Fatalf("wsgo routes app.py: %v\n%s", err, out)
	}
	for _, want := range []string{"form", "POST", "/form", "index", "/boom", "Python flask app"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("routes lack %q:\n%s", want, out)
		}
	}
}
