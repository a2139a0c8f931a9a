package python

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

const flaskApp = `
from flask import Flask, render_template, request

app = Flask(__name__)

@app.route('/')
def index():
    return render_template('hello.html', name=request.args.get('name', 'world'))

@app.route('/form', methods=['POST'])
def form():
    return 'got %s and %s' % (request.form['a'], request.form.getlist('b'))

@app.route('/boom')
def boom():
    return compute()

def compute():
    return {}['missing']
`

func flaskProject(t *testing.T) string {
	return project(t, map[string]string{
		"app.py":               flaskApp,
		"templates/hello.html": "<p>Hello, {{ name }}!</p>",
	})
}

// TestFlask: a Flask app serves a template and a form post; in development
// its exceptions reach the gateway, and the development server's page
// shows the user's Python frame; in production Flask answers its own 500.
func TestFlask(t *testing.T) {
	py := needModules(t, "flask")
	dir := flaskProject(t)
	a := start(t, dir, "app.py", Options{Python: py, Dev: true})

	if r := wsgiGet(a, "/?name=wsgo"); r != "<p>Hello, wsgo!</p>" {
		t.Errorf("template: %q", r)
	}
	form := url.Values{"a": {"1"}, "b": {"x", "y"}}.Encode()
	req := httptest.NewRequest("POST", "/form", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := wsgitest.Do(a, req); r.Body != "got 1 and ['x', 'y']" {
		t.Errorf("form: %d %q\n%s", r.Code, r.Body, r.Log)
	}

	var failure *wsgi.Failure
	var logged strings.Builder
	g := devserver.NewGateway(a, "app.py", devserver.NewLogger(&logged, false))
	g.ErrorPage = func(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) {
		failure = f
		devserver.ErrorPage(w, r, f)
	}
	req = httptest.NewRequest("GET", "/boom", nil)
	req.Host, req.RemoteAddr = "localhost:8000", "127.0.0.1:5000"
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	var exc *Exception
	if rec.Code != 500 || failure == nil || !errors.As(failure.Err, &exc) {
		t.Fatalf("/boom: %d, failure %v\n%s", rec.Code, failure, logged.String())
	}
	if exc.Type != "KeyError" || !exc.Frames[0].User || exc.Frames[0].Function != "compute" {
		t.Errorf("exception %v, innermost frame %+v", exc, exc.Frames[0])
	}
	user := slices.DeleteFunc(slices.Clone(exc.Frames), func(f wsgi.Frame) bool { return !f.User })
	if len(user) != 2 || len(exc.Frames) <= 2 {
		t.Errorf("the user's frames are not told from Flask's: %+v", exc.Frames)
	}
	page := rec.Body.String()
	for _, want := range []string{"KeyError: &#39;missing&#39;", `<span class="fn">compute</span>`, "return {}[&#39;missing&#39;]", "vscode://file" + filepath.Join(dir, "app.py")} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !strings.Contains(logged.String(), "compute\n") || !strings.Contains(logged.String(), "| return {}['missing']") {
		t.Errorf("terminal:\n%s", logged.String())
	}

	routes := a.Routes()
	if routes.Framework != "flask" || !slices.ContainsFunc(routes.Rules, func(r Route) bool {
		return r.Rule == "/form" && r.Endpoint == "form" && slices.Contains(r.Methods, "POST")
	}) {
		t.Errorf("routes %+v", routes)
	}

	prod := start(t, dir, "app.py", Options{Python: py, Threads: 1})
	r := wsgitest.Get(prod, "/boom")
	// Flask logs it to wsgi.errors, which is the server's log.
	if r.Code != 500 || strings.Contains(r.Log, `failed on GET "/boom"`) || !strings.Contains(r.Log, "ERROR in app: Exception on /boom") || !strings.Contains(r.Body, "Internal Server Error") {
		t.Errorf("production: Flask should answer its own 500: %d %q\n%s", r.Code, r.Body, r.Log)
	}
}

// TestDjango: a project made by django-admin startproject serves through
// its wsgi.py.
func TestDjango(t *testing.T) {
	py := needModules(t, "django")
	dir := t.TempDir()
	cmd := exec.Command(py, "-m", "django", "startproject", "mysite", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("startproject: %v\n%s", err, out)
	}
	a := start(t, dir, "mysite/wsgi.py", Options{Python: py, Dev: true, Threads: 2})
	if a.Routes().Framework != "django" {
		t.Errorf("framework %q", a.Routes().Framework)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "localhost"
	r := wsgitest.Do(a, req)
	if r.Code != 200 || !strings.Contains(r.Body, "The install worked successfully!") {
		t.Errorf("%d %.300q\n%s", r.Code, r.Body, r.Log)
	}
	// The module form, from the project directory.
	a = start(t, dir, "mysite.wsgi", Options{Python: py, Threads: 1})
	req = httptest.NewRequest("GET", "/admin/login/", nil)
	req.Host = "localhost"
	srv := httptest.NewServer(&wsgi.Gateway{App: a, Log: wsgi.LogTo(log.New(io.Discard, "", 0))})
	defer srv.Close()
	resp, err := client.Get(srv.URL + "/admin/login/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("admin login: %d", resp.StatusCode)
	}
}
