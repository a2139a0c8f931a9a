package apps

import (
	"iter"
	"strings"
	"testing"
)

// echoRoute answers with its tag and the path values it saw.
func echoRoute(tag string) AppFunc {
	return func(env Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", Headers{{"Content-Type", "text/plain"}})
		args, _ := env[RoutingArgsKey].(RoutingArgs)
		return BodyString(tag, " ", args.String())
	}
}

func req(method, path string) Environ {
	return Environ{"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": ""}
}

func TestRouterMatching(t *testing.T) {
	r := NewRouter()
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
		{"GET", "", "200 OK", `index ([], {})`, ""},
		{"GET", "/hello/Ada", "200 OK", `hello ([], {"name": "Ada"})`, ""},
		{"GET", "/hello/a b", "200 OK", `hello ([], {"name": "a b"})`, ""},
		{"GET", "/hello/admin", "200 OK", `admin ([], {})`, ""},
		{"HEAD", "/hello/Ada", "200 OK", `hello ([], {"name": "Ada"})`, ""},
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
		status, headers, body := call(r, req(tt.method, tt.path))
		if status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s %q: %s %q; want %s %q", tt.method, tt.path, status, body, tt.status, tt.body)
		}
		if got := headers.Get("Allow"); got != tt.allow {
			t.Errorf("%s %q: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func TestRouterRedirectKeepsTheMountPrefix(t *testing.T) {
	r := NewRouter()
	r.Handle("GET /docs/", echoRoute("docs"))
	env := req("GET", "/docs")
	env["SCRIPT_NAME"] = "/app"
	status, headers, _ := call(r, env)
	if !strings.HasPrefix(status, "30") || headers.Get("Location") != "/app/docs/" {
		t.Errorf("%s Location %q; want a redirect to /app/docs/", status, headers.Get("Location"))
	}
}

func TestRouterConflictsPanicAtRegistration(t *testing.T) {
	r := NewRouter()
	r.Handle("GET /a/{x}", echoRoute("x"))
	defer func() {
		v := recover()
		if v == nil || !strings.Contains(v.(string), "conflicts") {
			t.Errorf("no conflict panic: %v", v)
		}
	}()
	r.Handle("GET /a/{y}", echoRoute("y"))
}

func TestRouterRoutes(t *testing.T) {
	r := Hello()
	got := r.Routes()
	want := []Route{
		{Method: "GET", Path: "/{$}", Endpoint: "apps.helloIndex"},
		{Method: "GET", Path: "/hello/{name}", Endpoint: "apps.helloName"},
		{Method: "GET", Path: "/api/hello/{name}", Endpoint: "apps.helloJSON"},
	}
	if len(got) != len(want) {
		t.Fatalf("Routes() = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := endpointName(Counter{}); n != "apps.Counter" {
		t.Errorf("endpoint of a type: %q", n)
	}
}

type Counter struct{}

func (Counter) ServeWSGI(Environ, StartResponse) iter.Seq[[]byte] { return nil }

func TestHello(t *testing.T) {
	h := Hello()
	_, headers, body := call(h, req("GET", "/hello/<script>"))
	if !strings.Contains(body, "Hello, &lt;script&gt;!") || headers.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("name not escaped: %s", body)
	}
	_, headers, body = call(h, req("GET", "/api/hello/Ada \"L\""))
	if body != `{"hello":"Ada \"L\""}`+"\n" || headers.Get("Content-Type") != "application/json" {
		t.Errorf("JSON: %q", body)
	}
	env := req("GET", "/")
	env["SCRIPT_NAME"] = "/hi"
	if _, _, body = call(h, env); !strings.Contains(body, `href="/hi/hello/Ada"`) {
		t.Errorf("index links ignore the mount: %s", body)
	}
}

func TestDispatcher(t *testing.T) {
	d := NewDispatcher(echoMount("root"))
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
		{"/hello/a b", "/hello | /hello | /a b | app/hello"}, // PATH_INFO arrives decoded
	}
	for _, tt := range tests {
		if _, _, body := call(d, req("GET", tt.path)); body != tt.want {
			t.Errorf("%q: %q, want %q", tt.path, body, tt.want)
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

func echoMount(tag string) AppFunc {
	return func(env Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", nil)
		return BodyString(tag, " | ", env.ScriptName(), " | ", env.PathInfo(), " | ", env.Get(AppNameKey))
	}
}
