package wsgi

import (
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Router is an App that sends each request to the app registered for its
// method and path, with the pattern syntax of net/http's ServeMux:
//
//	GET /hello/{name}     a method, and a wildcard for one path segment
//	/static/{path...}     any method; a wildcard for the rest of the path
//	/{$}                  exactly "/", nothing below it
//
// It matches PATH_INFO, so that it works unchanged below a mount prefix.
// The most specific pattern wins; a GET pattern also serves HEAD. A path with
// no pattern gets 404, and a path whose patterns all name other methods gets
// 405 with an Allow header. Patterns that conflict panic at registration, as
// with ServeMux, whose matching Router uses.
//
// Wildcard values are in the environ under wsgiorg.routing_args; read them
// with [Environ.PathValue].
type Router struct {
	mux    *http.ServeMux
	mu     sync.RWMutex
	routes []Route
}

// A Route is one pattern of a Router, for listings.
type Route struct {
	Method   string // "GET", or "" for any method
	Path     string // "/hello/{name}"
	Host     string // a host the pattern is limited to, or ""
	Endpoint string // the app's function or type name, or its description
}

// RouteLister is implemented by apps that can list their routes, as Router
// does; `wsgo routes` uses it.
type RouteLister interface {
	Routes() []Route
}

// NewRouter returns an empty Router.
func NewRouter() *Router {
	return &Router{mux: http.NewServeMux()}
}

// Handle registers app for pattern. It panics if the pattern is malformed
// or conflicts with one already registered.
func (rt *Router) Handle(pattern string, app App) {
	if app == nil {
		panic(fmt.Sprintf("wsgi: Router.Handle %q with a nil app", pattern))
	}
	names := wildcardNames(pattern)
	defer func() {
		if v := recover(); v != nil {
			panic(fmt.Sprintf("wsgi: Router.Handle: %v", v)) // ServeMux's word on the pattern
		}
	}()
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := w.(*matchWriter)
		mw.app, mw.names = app, names
	}))
	route := parseRoute(pattern)
	route.Endpoint = endpointName(app)
	rt.mu.Lock()
	rt.routes = append(rt.routes, route)
	rt.mu.Unlock()
}

// HandleFunc registers f for pattern.
func (rt *Router) HandleFunc(pattern string, f func(Environ, StartResponse) iter.Seq[[]byte]) {
	rt.Handle(pattern, AppFunc(f))
}

// Routes returns the patterns in the order they were registered.
func (rt *Router) Routes() []Route {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	return append([]Route(nil), rt.routes...)
}

// ServeWSGI dispatches the request to the matching app.
func (rt *Router) ServeWSGI(env Environ, start StartResponse) iter.Seq[[]byte] {
	path := env.PathInfo()
	if path == "" {
		path = "/"
	}
	m := matches.Get().(*match)
	m.url = url.URL{Path: path}
	m.req = http.Request{Method: env.Method(), URL: &m.url, Host: env.Get("HTTP_HOST")}
	m.w = matchWriter{}
	rt.mux.ServeHTTP(&m.w, &m.req)
	app, names := m.w.app, m.w.names
	if app == nil {
		code, header, body := m.w.code, m.w.header, m.w.body.String()
		matches.Put(m)
		return respond(env, start, code, header, body)
	}
	args := RoutingArgs{Named: make(map[string]string, len(names))}
	for _, n := range names {
		args.Named[n] = m.req.PathValue(n)
	}
	matches.Put(m)
	env[RoutingArgsKey] = args
	return app.ServeWSGI(env, start)
}

// A match is what ServeMux needs to choose a route: a request to read and a
// writer for its answer. Neither leaves ServeWSGI, so they are reused
// rather than allocated for every request.
type match struct {
	req http.Request
	url url.URL
	w   matchWriter
}

var matches = sync.Pool{New: func() any { return new(match) }}

// matchWriter receives ServeMux's choice: the app of the matching route and
// its wildcards' names, or ServeMux's own answer (404, 405, a redirect).
type matchWriter struct {
	app    App
	names  []string
	header http.Header
	code   int
	body   strings.Builder
}

func (w *matchWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *matchWriter) WriteHeader(code int)        { w.code = code }
func (w *matchWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

// respond turns ServeMux's answer into the app's response.
func respond(env Environ, start StartResponse, code int, header http.Header, body string) iter.Seq[[]byte] {
	if code == 0 {
		code = http.StatusOK
	}
	var headers Headers
	for _, name := range []string{"Content-Type", "Allow", "Location"} {
		if v := header.Get(name); v != "" {
			if name == "Location" && strings.HasPrefix(v, "/") {
				v = env.ScriptName() + v // ServeMux saw only PATH_INFO
			}
			headers = append(headers, Header{Name: name, Value: v})
		}
	}
	start(strconv.Itoa(code)+" "+http.StatusText(code), headers)
	return BodyString(body)
}

// RoutingArgsKey is the environ key for the values a router found in the
// path, as the wsgiorg.routing_args convention names it.
const RoutingArgsKey = "wsgiorg.routing_args"

// RoutingArgs are the values a router found in the path: wsgiorg's
// (positional, named) pair. Router fills only Named.
type RoutingArgs struct {
	Positional []string
	Named      map[string]string
}

// String formats the arguments as the Python tuple they stand for.
func (a RoutingArgs) String() string {
	var b strings.Builder
	b.WriteString("([")
	for i, p := range a.Positional {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(p))
	}
	b.WriteString("], {")
	for i, k := range slices.Sorted(maps.Keys(a.Named)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", k, a.Named[k])
	}
	b.WriteString("})")
	return b.String()
}

// PathValue returns the value a router found for the wildcard name, or "".
func (e Environ) PathValue(name string) string {
	args, _ := e[RoutingArgsKey].(RoutingArgs)
	return args.Named[name]
}

var wildcard = regexp.MustCompile(`\{([^}.$]+)(?:\.\.\.)?\}`)

func wildcardNames(pattern string) []string {
	var names []string
	for _, m := range wildcard.FindAllStringSubmatch(pattern, -1) {
		names = append(names, m[1])
	}
	return names
}

// parseRoute splits "[METHOD ][HOST]/PATH" as ServeMux reads it.
func parseRoute(pattern string) Route {
	var r Route
	rest := strings.TrimLeft(pattern, " \t")
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		r.Method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		i = len(rest)
	}
	r.Host, r.Path = rest[:i], rest[i:]
	return r
}

// endpointName names an app for listings: a function by its name, a value by
// its type.
func endpointName(app App) string {
	if f, ok := app.(AppFunc); ok {
		if fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer()); fn != nil {
			name := fn.Name()
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
			return name
		}
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", app), "*")
}
