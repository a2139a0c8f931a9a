package wsgi_test

import (
	"iter"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// echoRoute answers with its tag and the path values it saw.
func echoRoute(tag string) wsgi.AppFunc {
	return func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{"Content-Type", "text/plain"}})
		args, _ := env[wsgi.RoutingArgsKey].(wsgi.RoutingArgs)
		return wsgi.BodyString(tag, " ", args.String())
	}
}

func TestRouterMatching(t *testing.T) {
	r := wsgi.NewRouter()
	r.Handle("GET /{$}", echoRoute("index"))
	r.Handle("GET /hello/{name}", echoRoute("hello"))
	r.Handle("GET /hello/admin", echoRoute("admin")) // more specific than {name}
	r.Handle("/static/{path...}", echoRoute("static"))
	r.Handle("POST /items", echoRoute("create"))
	r.Handle("DELETE /items", echoRoute("delete"))

	tests := []struct {
		method, path string
		status       string
		body         string
		allow        string
	}{
		{"GET", "/", "200 OK", `index ([], {})`, ""},
		{"GET", "/hello/Ada", "200 OK", `hello ([], {"name": "Ada"})`, ""},
		{"GET", "/hello/a%20b", "200 OK", `hello ([], {"name": "a b"})`, ""},
		{"GET", "/hello/admin", "200 OK", `admin ([], {})`, ""},
		{"HEAD", "/hello/Ada", "200 OK", "", ""}, // a GET pattern serves HEAD; no body
		{"PUT", "/static/css/site.css", "200 OK", `static ([], {"path": "css/site.css"})`, ""},
		{"GET", "/static/", "200 OK", `static ([], {"path": ""})`, ""},
		{"POST", "/items", "200 OK", `create ([], {})`, ""},
		{"GET", "/nope", "404 Not Found", "404 page not found", ""},
		{"GET", "/hello/Ada/more", "404 Not Found", "404 page not found", ""},
		{"GET", "/index", "404 Not Found", "", ""},
		{"GET", "/items", "405 Method Not Allowed", "Method Not Allowed", "DELETE, POST"},
		{"POST", "/hello/Ada", "405 Method Not Allowed", "", "GET, HEAD"},
	}
	for _, tt := range tests {
		resp := wsgitest.Do(r, httptest.NewRequest(tt.method, tt.path, nil))
		if resp.Status != tt.status || !strings.Contains(resp.Body, tt.body) {
			t.Errorf("%s %q: %s %q; want %s %q", tt.method, tt.path, resp.Status, resp.Body, tt.status, tt.body)
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %q: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	// Below a mount, the mount point itself has an empty PATH_INFO: "/".
	d := wsgi.NewDispatcher(echoRoute("root"))
	if err := d.Mount("/m", "m", r); err != nil {
		t.Fatal(err)
	}
	if resp := wsgitest.Get(d, "/m"); resp.Body != `index ([], {})` {
		t.Errorf("GET /m: %s %q, want the index", resp.Status, resp.Body)
	}
}

func TestRouterRedirectKeepsTheMountPrefix(t *testing.T) {
	r := wsgi.NewRouter()
	r.Handle("GET /docs/", echoRoute("docs"))
	d := wsgi.NewDispatcher(echoRoute("root"))
	if err := d.Mount("/app", "app", r); err != nil {
		t.Fatal(err)
	}
	resp := wsgitest.Get(d, "/app/docs")
	if resp.Code/100 != 3 || resp.Header.Get("Location") != "/app/docs/" {
		t.Errorf("%s Location %q; want a redirect to /app/docs/", resp.Status, resp.Header.Get("Location"))
	}
}

func TestRouterConflictsPanicAtRegistration(t *testing.T) {
	r := wsgi.NewRouter()
	r.Handle("GET /a/{x}", echoRoute("x"))
	defer func() {
		v := recover()
		if v == nil || !strings.Contains(v.(string), "conflicts") {
			t.Errorf("no conflict panic: %v", v)
		}
	}()
	r.Handle("GET /a/{y}", echoRoute("y"))
}

func TestDispatcher(t *testing.T) {
	d := wsgi.NewDispatcher(echoMount("root"))
	for _, p := range []string{"/hello", "/hello/deep/", "/h"} {
		if err := d.Mount(p, "app"+p, echoMount(p)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ path, want string }{
		{"/hello", "/hello | /hello |  | app/hello"},
		{"/hello/", "/hello | /hello | / | app/hello"},
		{"/hello/x", "/hello | /hello | /x | app/hello"},
		{"/helloworld", "root |  | /helloworld | "},
		{"/hello/deep", "/hello/deep/ | /hello/deep |  | app/hello/deep/"},
		{"/hello/deep/er", "/hello/deep/ | /hello/deep | /er | app/hello/deep/"},
		{"/h/x", "/h | /h | /x | app/h"},
		{"/", "root |  | / | "},
		{"/hello/a%20b", "/hello | /hello | /a b | app/hello"}, // PATH_INFO arrives decoded
	}
	for _, tt := range tests {
		if resp := wsgitest.Get(d, tt.path); resp.Body != tt.want {
			t.Errorf("%q: %q, want %q", tt.path, resp.Body, tt.want)
		}
	}
	for _, bad := range []string{"hello", "/", "", "/hello/"} {
		if err := d.Mount(bad, "x", echoMount("x")); err == nil {
			t.Errorf("Mount(%q) accepted", bad)
		}
	}
	if got := d.Prefixes(); strings.Join(got, ",") != "/hello/deep,/hello,/h" {
		t.Errorf("Prefixes() = %v", got)
	}
}

func echoMount(tag string) wsgi.AppFunc {
	return func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", nil)
		return wsgi.BodyString(tag, " | ", env.ScriptName(), " | ", env.PathInfo(), " | ", env.Get(wsgi.AppNameKey))
	}
}

type counter struct{}

func (counter) ServeWSGI(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] { return nil }

// TestRouteEndpoints: a function is listed by its name, a value by its type.
func TestRouteEndpoints(t *testing.T) {
	r := wsgi.NewRouter()
	r.HandleFunc("GET /f", ok)
	r.Handle("GET /v", counter{})
	r.Handle("GET /p", &counter{})
	var got []string
	for _, route := range r.Routes() {
		got = append(got, route.Endpoint)
	}
	if want := "wsgi_test.ok wsgi_test.counter wsgi_test.counter"; strings.Join(got, " ") != want {
		t.Errorf("endpoints %q, want %q", got, want)
	}
}

// TestRouterMatchAllocations: choosing a route costs the routing args an
// app can keep, and not a request built for ServeMux each time.
func TestRouterMatchAllocations(t *testing.T) {
	r := wsgi.NewRouter()
	r.HandleFunc("GET /api/hello/{name}", func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] { return nil })
	env := wsgi.Environ{"REQUEST_METHOD": "GET", "PATH_INFO": "/api/hello/bench", "HTTP_HOST": "h"}
	allocs := testing.AllocsPerRun(100, func() {
		r.ServeWSGI(env, nil)
	})
	if env.PathValue("name") != "bench" {
		t.Fatalf("name = %q, want bench", env.PathValue("name"))
	}
	// The named values (a map and a group), their box in the environ, and
	// the values ServeMux matched.
	if allocs > 4 {
		t.Errorf("a route match costs %.0f allocations, want at most 4", allocs)
	}
}
