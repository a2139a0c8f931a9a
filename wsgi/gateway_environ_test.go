package wsgi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// parse reads one raw HTTP request as the server would see it.
func parse(t testing.TB, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest(%q): %v", raw, err)
	}
	r.RemoteAddr = "127.0.0.1:50000"
	return r
}

func TestEnviron(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   map[string]string // keys that must have these values
		absent []string          // keys that must not be there
	}{{
		name: "required keys",
		raw:  "GET /get/prefix?ip= HTTP/1.1\r\nHost: localhost:8000\r\n\r\n",
		want: map[string]string{
			"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/get/prefix",
			"QUERY_STRING": "ip=", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost:8000",
			"SERVER_NAME": "localhost", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1",
			"REMOTE_PORT": "50000", "REQUEST_URI": "/get/prefix?ip=", "GATEWAY_INTERFACE": "CGI/1.1",
			"wsgi.url_scheme": "http",
		},
		absent: []string{"CONTENT_TYPE", "CONTENT_LENGTH"},
	}, {
		name: "path decoded, query raw",
		raw:  "GET /a%20b%2Fc;p?q=%20x&y=a+b HTTP/1.1\r\nHost: h\r\n\r\n",
		want: map[string]string{"PATH_INFO": "/a b/c;p", "QUERY_STRING": "q=%20x&y=a+b", "REQUEST_URI": "/a%20b%2Fc;p?q=%20x&y=a+b"},
	}, {
		name: "non-ASCII path",
		raw:  "GET /caf%C3%A9 HTTP/1.1\r\nHost: h\r\n\r\n",
		want: map[string]string{"PATH_INFO": "/café"},
	}, {
		name: "empty query",
		raw:  "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		want: map[string]string{"QUERY_STRING": "", "PATH_INFO": "/"},
	}, {
		name: "repeated headers joined with a comma",
		raw:  "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\nx-custom-thing: 1\r\nX-Custom-Thing: 2\r\n\r\n",
		want: map[string]string{"HTTP_ACCEPT": "a,b", "HTTP_X_CUSTOM_THING": "1,2"},
	}, {
		name:   "underscore headers dropped",
		raw:    "GET / HTTP/1.1\r\nHost: h\r\nX-Auth_User: admin\r\nX-Auth-User: alice\r\n\r\n",
		want:   map[string]string{"HTTP_X_AUTH_USER": "alice"},
		absent: []string{"HTTP_X_AUTH_USER_"},
	}, {
		name:   "only an underscore header",
		raw:    "GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n",
		absent: []string{"HTTP_X_FORWARDED_FOR"},
	}, {
		name:   "content headers under CGI names only",
		raw:    "POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		want:   map[string]string{"CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "5", "REQUEST_METHOD": "POST"},
		absent: []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
	}, {
		name:   "chunked body has no CONTENT_LENGTH",
		raw:    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		absent: []string{"CONTENT_LENGTH", "HTTP_CONTENT_LENGTH"},
	}, {
		name:   "HTTP/1.0 without Host",
		raw:    "GET / HTTP/1.0\r\n\r\n",
		want:   map[string]string{"SERVER_PROTOCOL": "HTTP/1.0", "SERVER_NAME": "localhost", "SERVER_PORT": "80"},
		absent: []string{"HTTP_HOST"},
	}, {
		name: "empty header value is kept",
		raw:  "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n",
		want: map[string]string{"HTTP_X_EMPTY": ""},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := NewEnviron(parse(t, tt.raw))
			for k, v := range tt.want {
				got, ok := env[k]
				if !ok {
					t.Errorf("%s missing; want %q", k, v)
				} else if got != v {
					t.Errorf("%s = %#v, want %q", k, got, v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := env[k]; ok {
					t.Errorf("%s = %#v, want it absent", k, v)
				}
			}
			checkEnvironShape(t, env)
		})
	}
}

// checkEnvironShape asserts what must hold of every environ.
func checkEnvironShape(t testing.TB, env Environ) {
	t.Helper()
	for _, k := range []string{"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL"} {
		if _, ok := env[k].(string); !ok {
			t.Errorf("%s missing or not a string: %#v", k, env[k])
		}
	}
	if env.Method() == "" || env.Get("SERVER_NAME") == "" || env.Get("SERVER_PORT") == "" {
		t.Errorf("REQUEST_METHOD, SERVER_NAME and SERVER_PORT must not be empty: %v", env)
	}
	for k, v := range env {
		if !strings.Contains(k, ".") {
			if _, ok := v.(string); !ok {
				t.Errorf("CGI key %s holds %T, want a string", k, v)
			}
		}
	}
	for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s present", k)
		}
	}
	if env["wsgi.version"] != (Version{Major: 1, Minor: 0}) {
		t.Errorf("wsgi.version = %v", env["wsgi.version"])
	}
	if env["wsgi.multithread"] != true || env["wsgi.multiprocess"] != false || env["wsgi.run_once"] != false {
		t.Errorf("wsgi flags: %v %v %v", env["wsgi.multithread"], env["wsgi.multiprocess"], env["wsgi.run_once"])
	}
	if _, ok := env["wsgi.input"].(io.Reader); !ok {
		t.Error("wsgi.input is not a reader")
	}
	if _, ok := env["wsgi.errors"].(io.Writer); !ok {
		t.Error("wsgi.errors is not a writer")
	}
	if _, ok := env["wsgo.context"].(context.Context); !ok {
		t.Error("wsgo.context is not a context")
	}
}

func TestEnvironServerAddrFromListener(t *testing.T) {
	r := parse(t, "GET / HTTP/1.1\r\nHost: example.test:9999\r\n\r\n")
	local := &net.TCPAddr{IP: net.IPv6loopback, Port: 8123}
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	env := NewEnviron(r)
	if env["SERVER_NAME"] != "::1" || env["SERVER_PORT"] != "8123" {
		t.Errorf("SERVER_NAME, SERVER_PORT = %v, %v; want the listener's ::1, 8123", env["SERVER_NAME"], env["SERVER_PORT"])
	}
}

// TestServerAddrCachedAcrossConnections: each connection has its own local
// *net.TCPAddr, and under load their requests interleave; the boxed
// SERVER_NAME and SERVER_PORT are still made once per listening address.
func TestServerAddrCachedAcrossConnections(t *testing.T) {
	var cache atomic.Pointer[serverAddrCache]
	reqs := make([]*http.Request, 2)
	for i := range reqs {
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8123} // one per connection
		reqs[i] = httptest.NewRequest("GET", "/", nil)
		reqs[i] = reqs[i].WithContext(context.WithValue(reqs[i].Context(), http.LocalAddrContextKey, local))
	}
	serverAddr(reqs[0], &cache)
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		i++
		if name, port := serverAddr(reqs[i%2], &cache); name != "127.0.0.1" || port != "8123" {
			t.Fatalf("SERVER_NAME, SERVER_PORT = %v, %v", name, port)
		}
	})
	if allocs > 0 {
		t.Errorf("SERVER_NAME and SERVER_PORT cost %.1f allocations a request, want none", allocs)
	}
}

func TestEnvironInputEndsAtBody(t *testing.T) {
	for name, raw := range map[string]string{
		"content-length": "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\n\r\n",
		"chunked":        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			env := NewEnviron(parse(t, raw))
			got, err := io.ReadAll(env.Input())
			if err != nil || string(got) != "hello" {
				t.Errorf("wsgi.input read %q, %v; want exactly the body, hello", got, err)
			}
		})
	}
}

func TestEnvironHasNoProcessEnvironment(t *testing.T) {
	t.Setenv("WSGO_TEST_SECRET", "hunter2-do-not-leak")
	env := NewEnviron(parse(t, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	for k, v := range env {
		if k == "WSGO_TEST_SECRET" || k == "PATH" || k == "HOME" || v == "hunter2-do-not-leak" {
			t.Errorf("process environment leaked: %s = %v", k, v)
		}
	}
}

func FuzzEnviron(f *testing.F) {
	f.Add("GET /get/prefix?ip= HTTP/1.1\r\nHost: h\r\n\r\n")
	f.Add("GET /a%20b%2Fc;p HTTP/1.1\r\nHost: h\r\nX_A: 1\r\nX-A: 2\r\nX-A: 3\r\n\r\n")
	f.Add("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-Length: 1\r\n\r\nx")
	f.Add("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n")
	f.Add("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
	f.Add("GET http://other.test/x?y HTTP/1.1\r\nHost: h\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http turns the client away before any app sees it
		}
		env := NewEnviron(r)
		checkEnvironShape(t, env)
		if env.PathInfo() != r.URL.Path {
			t.Errorf("PATH_INFO %q, URL path %q", env.PathInfo(), r.URL.Path)
		}
		for k := range env {
			if strings.HasPrefix(k, "HTTP_") && strings.ContainsAny(k[5:], "abcdefghijklmnopqrstuvwxyz-") {
				t.Errorf("header key %q is not upper-case with underscores", k)
			}
		}
		for name := range r.Header {
			if strings.Contains(name, "_") {
				if _, ok := env[cgiKey(name)]; ok && r.Header.Get(strings.ReplaceAll(name, "_", "-")) == "" {
					t.Errorf("underscore header %q reached the environ", name)
				}
			}
		}
	})
}

// TestNewEnvironCachesServerAddr: other servers that build environs with
// NewEnviron box SERVER_NAME and SERVER_PORT once per listening address,
// as the Gateway does.
func TestNewEnvironCachesServerAddr(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8123}
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	NewEnviron(r)
	var env Environ
	cached := testing.AllocsPerRun(100, func() { env = NewEnviron(r) })
	if env["SERVER_NAME"] != "127.0.0.1" || env["SERVER_PORT"] != "8123" {
		t.Fatalf("SERVER_NAME, SERVER_PORT = %v, %v", env["SERVER_NAME"], env["SERVER_PORT"])
	}
	uncached := testing.AllocsPerRun(100, func() { env = newEnviron(r, nil, nil, &input{}) })
	if cached >= uncached {
		t.Errorf("NewEnviron costs %.0f allocations, as many as with no cache (%.0f)", cached, uncached)
	}
}

// TestEnvironSharesRepeatedValues: HTTP_HOST and REMOTE_ADDR, the same
// from one client to one site, are boxed once, not per request; a new
// value is boxed anew, and each environ has its own request's values.
func TestEnvironSharesRepeatedValues(t *testing.T) {
	var cache envCache
	r := httptest.NewRequest("GET", "/", nil)
	r.Host, r.RemoteAddr = "example.test:8000", "192.0.2.1:40000"
	newEnviron(r, nil, &cache, &input{})
	again := testing.AllocsPerRun(100, func() { newEnviron(r, nil, &cache, &input{}) })
	fresh := testing.AllocsPerRun(100, func() { newEnviron(r, nil, &envCache{}, &input{}) })
	if again > fresh-2 {
		t.Errorf("an environ with HTTP_HOST and REMOTE_ADDR as before: %.0f allocations, want 2 fewer than %.0f", again, fresh)
	}
	other := r.Clone(r.Context())
	other.Host, other.RemoteAddr = "other.test", "192.0.2.2:40001"
	for _, req := range []*http.Request{other, r} {
		env := newEnviron(req, nil, &cache, &input{})
		if env["HTTP_HOST"] != req.Host || env["REMOTE_ADDR"] != strings.Split(req.RemoteAddr, ":")[0] {
			t.Errorf("HTTP_HOST %v, REMOTE_ADDR %v; want %s, %s", env["HTTP_HOST"], env["REMOTE_ADDR"], req.Host, req.RemoteAddr)
		}
	}
}

// TestEnvironsAreTheirOwn: an environ is the app's to change; the next
// request's has none of the changes, whatever the number of its headers.
func TestEnvironsAreTheirOwn(t *testing.T) {
	for _, headers := range []int{0, 10, 40, 100} { // each size of blank, and past them
		r := httptest.NewRequest("GET", "/", nil)
		for i := range headers {
			r.Header.Set(fmt.Sprintf("X-H%d", i), "v")
		}
		env := NewEnviron(r)
		env["SCRIPT_NAME"] = "/changed"
		delete(env, "wsgi.version")
		clear(NewEnviron(r))
		again := NewEnviron(r)
		if again["SCRIPT_NAME"] != "" || again["wsgi.version"] != version || again["wsgi.url_scheme"] != "http" {
			t.Errorf("%d headers: the next environ has SCRIPT_NAME %q, wsgi.version %v, wsgi.url_scheme %v",
				headers, again["SCRIPT_NAME"], again["wsgi.version"], again["wsgi.url_scheme"])
		}
		if want := 21 + headers; len(again) != want {
			t.Errorf("%d headers: %d keys, want %d", headers, len(again), want)
		}
	}
}

func TestEnvironSchemeAndProtocolAreEachRequests(t *testing.T) {
	secure := httptest.NewRequest("GET", "https://example.com/", nil)
	secure.Proto = "HTTP/2.0"
	if env := NewEnviron(secure); env["wsgi.url_scheme"] != "https" || env["SERVER_PROTOCOL"] != "HTTP/2.0" {
		t.Errorf("over TLS and HTTP/2: wsgi.url_scheme %v, SERVER_PROTOCOL %v", env["wsgi.url_scheme"], env["SERVER_PROTOCOL"])
	}
	if env := NewEnviron(httptest.NewRequest("GET", "/", nil)); env["wsgi.url_scheme"] != "http" || env["SERVER_PROTOCOL"] != "HTTP/1.1" {
		t.Errorf("the next request: wsgi.url_scheme %v, SERVER_PROTOCOL %v", env["wsgi.url_scheme"], env["SERVER_PROTOCOL"])
	}
}

// TestEnvironSharesPathAndURI: a request target that is a plain path is
// both PATH_INFO and REQUEST_URI, boxed once; an escaped one is two values.
func TestEnvironSharesPathAndURI(t *testing.T) {
	var cache envCache
	plain, escaped := httptest.NewRequest("GET", "/items/a", nil), httptest.NewRequest("GET", "/items/%61", nil)
	allocs := func(r *http.Request) float64 {
		return testing.AllocsPerRun(100, func() { newEnviron(r, nil, &cache, &input{}) })
	}
	env := newEnviron(escaped, nil, &cache, &input{})
	if env["PATH_INFO"] != "/items/a" || env["REQUEST_URI"] != "/items/%61" {
		t.Errorf("PATH_INFO %v, REQUEST_URI %v", env["PATH_INFO"], env["REQUEST_URI"])
	}
	if p, e := allocs(plain), allocs(escaped); p != e-1 {
		t.Errorf("a plain path costs %.0f allocations, an escaped one %.0f: want one fewer", p, e)
	}
}
