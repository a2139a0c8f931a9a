package proxy

import (
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// echo answers with the environ keys a proxy may change, one a line.
var echo = wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	var b strings.Builder
	for _, k := range []string{"REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "PATH_INFO", PeerKey} {
		fmt.Fprintf(&b, "%s=%s\n", k, env.Get(k))
	}
	return wsgi.BodyString(b.String())
})

var loopback = netip.MustParsePrefix("127.0.0.1/32")

// serve sends a request from peer with headers (name, value, name, value…)
// to app and returns the environ it saw, as a map.
func serve(t *testing.T, app wsgi.App, peer string, headers ...string) map[string]string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://backend:8000/items", nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	res := wsgitest.Do(app, r)
	if res.Code != 200 {
		t.Fatalf("status %d\n%s", res.Code, res.Log)
	}
	env := map[string]string{}
	for line := range strings.Lines(res.Body) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		env[k] = v
	}
	return env
}

func want(t *testing.T, env map[string]string, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := env[kv[i]]; got != kv[i+1] {
			t.Errorf("%s = %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

var nginxHeaders = []string{
	"X-Forwarded-For", "203.0.113.7",
	"X-Forwarded-Proto", "https",
	"X-Forwarded-Host", "www.example.com",
	"X-Forwarded-Prefix", "/shop/",
}

func TestProxyTrustedPeerIsBelieved(t *testing.T) {
	env := serve(t, Trust(echo, loopback), "127.0.0.1:40000", nginxHeaders...)
	want(t, env,
		"REMOTE_ADDR", "203.0.113.7",
		"REMOTE_PORT", "",
		PeerKey, "127.0.0.1",
		"wsgi.url_scheme", "https",
		"HTTP_HOST", "www.example.com",
		"SERVER_NAME", "www.example.com",
		"SERVER_PORT", "443",
		"SCRIPT_NAME", "/shop",
		"PATH_INFO", "/items")
}

// TestProxyUntrustedPeerCannotSpoof: the same headers from an address that
// is not a trusted proxy change nothing.
func TestProxyUntrustedPeerCannotSpoof(t *testing.T) {
	for _, app := range []wsgi.App{
		Trust(echo, loopback),
		Config{Trusted: []netip.Prefix{loopback}, Forwarded: true}.Wrap(echo),
		Trust(echo), // trusting no one
	} {
		env := serve(t, app, "198.51.100.9:5555", append(nginxHeaders, "Forwarded", `for=203.0.113.7;proto=https;host=evil`)...)
		want(t, env,
			"REMOTE_ADDR", "198.51.100.9",
			"REMOTE_PORT", "5555",
			PeerKey, "",
			"wsgi.url_scheme", "http",
			"HTTP_HOST", "backend:8000",
			"SERVER_NAME", "backend",
			"SERVER_PORT", "8000",
			"SCRIPT_NAME", "")
	}
}

// TestProxyClientCannotSpoofThroughTrustedProxy: a client that sends its
// own X-Forwarded-For through nginx gets nginx's append of its real
// address; the walk from the right stops there, before the lie.
func TestProxyClientCannotSpoofThroughTrustedProxy(t *testing.T) {
	env := serve(t, Trust(echo, loopback), "127.0.0.1:40000",
		"X-Forwarded-For", "10.1.1.1, 127.0.0.1", // the lie: "I am 10.1.1.1, then your own proxy"
		"X-Forwarded-For", "203.0.113.7") // what nginx appended
	want(t, env, "REMOTE_ADDR", "203.0.113.7")
}

// TestProxyMultipleHops: a CDN, then a load balancer, then nginx, all
// trusted, each appending what it saw; the client is the first untrusted
// address from the right, and the scheme its own hop's.
func TestProxyMultipleHops(t *testing.T) {
	trusted := []netip.Prefix{loopback, netip.MustParsePrefix("10.0.0.0/8")}
	env := serve(t, Trust(echo, trusted...), "127.0.0.1:40000",
		"X-Forwarded-For", "198.51.100.1, 203.0.113.7, 10.0.0.2, 10.0.0.3",
		"X-Forwarded-Proto", "http, https, http, http",
		"X-Forwarded-Host", "www.example.com:8443")
	want(t, env,
		"REMOTE_ADDR", "203.0.113.7",
		"wsgi.url_scheme", "https",
		"HTTP_HOST", "www.example.com:8443",
		"SERVER_NAME", "www.example.com",
		"SERVER_PORT", "8443")

	// All of them trusted: the leftmost is the client.
	env = serve(t, Trust(echo, trusted...), "127.0.0.1:40000", "X-Forwarded-For", "10.9.9.9, 10.0.0.2")
	want(t, env, "REMOTE_ADDR", "10.9.9.9")

	// Only the nearest trusted: the next address to the left is the client.
	env = serve(t, Trust(echo, loopback), "127.0.0.1:40000", "X-Forwarded-For", "198.51.100.1, 10.0.0.2")
	want(t, env, "REMOTE_ADDR", "10.0.0.2")
}

func TestProxyForwarded(t *testing.T) {
	app := Config{Trusted: []netip.Prefix{loopback, netip.MustParsePrefix("2001:db8::/32")}, Forwarded: true}.Wrap(echo)
	env := serve(t, app, "127.0.0.1:40000",
		"Forwarded", `for=198.51.100.1;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;host="shop.example.com"`,
		"Forwarded", `For="203.0.113.7:8080";Proto=https;Host=www.example.com, for=2001:db8::1;proto=http`,
		"X-Forwarded-For", "10.6.6.6") // ignored: the other family
	want(t, env,
		"REMOTE_ADDR", "203.0.113.7",
		"REMOTE_PORT", "8080",
		"wsgi.url_scheme", "https",
		"HTTP_HOST", "www.example.com",
		"SERVER_PORT", "443")

	// An IPv6 client, quoted and bracketed as the RFC wants.
	env = serve(t, app, "127.0.0.1:40000", "Forwarded", `for="[2001:db9::17]:4711";proto=https`)
	want(t, env, "REMOTE_ADDR", "2001:db9::17", "REMOTE_PORT", "4711", "wsgi.url_scheme", "https")

	// "unknown" stops the walk; its hop's scheme still counts.
	env = serve(t, app, "127.0.0.1:40000", "Forwarded", `for=unknown;proto=https`)
	want(t, env, "REMOTE_ADDR", "127.0.0.1", "wsgi.url_scheme", "https")

	// A malformed header is not believed at all.
	for _, bad := range []string{`for="203.0.113.7;proto=https`, `for;proto=https`, `for=a b;proto=https`} {
		env = serve(t, app, "127.0.0.1:40000", "Forwarded", bad)
		want(t, env, "REMOTE_ADDR", "127.0.0.1", "wsgi.url_scheme", "http")
	}

	// X-Forwarded-* is not read when Forwarded is.
	env = serve(t, app, "127.0.0.1:40000", nginxHeaders...)
	want(t, env, "REMOTE_ADDR", "127.0.0.1", "wsgi.url_scheme", "http", "HTTP_HOST", "backend:8000")
	// Nor Forwarded when X-Forwarded-* is.
	env = serve(t, Trust(echo, loopback), "127.0.0.1:40000", "Forwarded", "for=203.0.113.7;proto=https")
	want(t, env, "REMOTE_ADDR", "127.0.0.1", "wsgi.url_scheme", "http")
}

// TestProxyBadValuesAreIgnored: a scheme, host or prefix a trusted proxy
// passes on that could not be one is dropped, not believed.
func TestProxyBadValuesAreIgnored(t *testing.T) {
	env := serve(t, Trust(echo, loopback), "127.0.0.1:40000",
		"X-Forwarded-Proto", "javascript",
		"X-Forwarded-Host", "evil.example/path?",
		"X-Forwarded-Prefix", "no-slash")
	want(t, env, "wsgi.url_scheme", "http", "HTTP_HOST", "backend:8000", "SCRIPT_NAME", "", "REMOTE_ADDR", "127.0.0.1")
}

// TestProxyIPv4MappedPeer: a dual-stack socket reports ::ffff:127.0.0.1,
// which is 127.0.0.1.
func TestProxyIPv4MappedPeer(t *testing.T) {
	env := serve(t, Trust(echo, loopback), "[::ffff:127.0.0.1]:40000", "X-Forwarded-For", "203.0.113.7")
	want(t, env, "REMOTE_ADDR", "203.0.113.7")
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes("127.0.0.1, 10.0.0.0/8,::1,192.168.1.77/24")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[127.0.0.1/32 10.0.0.0/8 ::1/128 192.168.1.0/24]" {
		t.Errorf("got %v", got)
	}
	for _, bad := range []string{"", "localhost", "10.0.0.0/33"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q): no error", bad)
		}
	}
}
