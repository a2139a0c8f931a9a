package wsgi

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
)

// Software is the SERVER_SOFTWARE value and the Server header wsgo sends.
const Software = "wsgo"

var version = Version{Major: 1, Minor: 0}

// NewEnviron builds the environ for r as PEP 3333 defines it, with wsgi.errors
// writing to standard error. Servers built on [Gateway] need not call it; it
// is here for tests and for other servers.
//
// PATH_INFO is percent-decoded and QUERY_STRING left raw. Each request header
// becomes one HTTP_* key, repeats joined with ","; Content-Type and
// Content-Length appear only as CONTENT_TYPE and CONTENT_LENGTH; a header whose
// name holds "_" is dropped, since it would otherwise read as the dashed header
// of the same name. Nothing from the process environment is copied in.
func NewEnviron(r *http.Request) Environ {
	return newEnviron(r, os.Stderr, &shared, &input{r: r.Body})
}

// shared is NewEnviron's cache, as a Gateway keeps its own.
var shared envCache

// An envCache holds values boxed for earlier requests, to put in the
// environs of the next: SERVER_NAME and SERVER_PORT, HTTP_HOST (the same
// for every request to one site) and REMOTE_ADDR (the same for all of a
// client's connections, and for every request behind a reverse proxy).
type envCache struct {
	addr         atomic.Pointer[serverAddrCache]
	host, remote boxCache
}

// A boxCache shares the last string it boxed while the same string comes
// again: boxing a string allocates, comparing one does not. A string that
// differs each time costs one allocation more than boxing it outright.
type boxCache struct{ last atomic.Pointer[boxed] }

type boxed struct {
	s string
	v any
}

// box returns s boxed, the box of the last call if that was for s too.
func (c *boxCache) box(s string) any {
	if c == nil {
		return s
	}
	if b := c.last.Load(); b != nil && b.s == s {
		return b.v
	}
	b := &boxed{s: s, v: s}
	c.last.Store(b)
	return b.v
}

// Values stored in an environ are boxed in interfaces, and boxing a string
// that is not a constant allocates. The gateway runs per request, so the
// common values below are boxed once.
var (
	versionValue any = version
	keyCache         = func() map[string]string {
		m := map[string]string{}
		for _, name := range []string{
			"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
			"Connection", "Cookie", "Dnt", "If-Modified-Since", "If-None-Match", "Origin",
			"Pragma", "Priority", "Referer", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform",
			"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User",
			"Upgrade-Insecure-Requests", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto",
			"X-Requested-With", "Expect", "Range", "If-Match", "If-Range", "X-Request-Id",
		} {
			m[name] = headerKey(name)
		}
		return m
	}()
)

func methodValue(m string) any {
	switch m {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	}
	return m
}

func protoValue(p string) any {
	switch p {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/2.0":
		return "HTTP/2.0"
	case "HTTP/1.0":
		return "HTTP/1.0"
	}
	return p
}

// serverAddrCache remembers SERVER_NAME and SERVER_PORT, boxed, for the
// last local address seen: every connection to a listener shares one.
type serverAddrCache struct {
	addr       net.TCPAddr
	name, port any
}

// is reports whether a is the address the cache holds. It compares values:
// each connection has its own *net.TCPAddr, and under load requests from
// many connections interleave.
func (c *serverAddrCache) is(a *net.TCPAddr) bool {
	return c.addr.Port == a.Port && c.addr.IP.Equal(a.IP) && c.addr.Zone == a.Zone
}

// newEnviron builds r's environ, with in, which reads r.Body, as wsgi.input.
func newEnviron(r *http.Request, errs io.Writer, cache *envCache, in *input) Environ {
	var addrs *atomic.Pointer[serverAddrCache]
	var hosts, remotes *boxCache
	if cache != nil {
		addrs, hosts, remotes = &cache.addr, &cache.host, &cache.remote
	}
	env := make(Environ, 24+len(r.Header))
	env["REQUEST_METHOD"] = methodValue(r.Method)
	env["SCRIPT_NAME"] = ""
	path := any(r.URL.Path)
	env["PATH_INFO"] = path
	env["QUERY_STRING"] = r.URL.RawQuery
	if r.RequestURI == r.URL.Path {
		env["REQUEST_URI"] = path // boxed once: a path with no query or escapes is both
	} else {
		env["REQUEST_URI"] = r.RequestURI
	}
	env["SERVER_PROTOCOL"] = protoValue(r.Proto)
	env["SERVER_SOFTWARE"] = Software
	env["GATEWAY_INTERFACE"] = "CGI/1.1"
	env["SERVER_NAME"], env["SERVER_PORT"] = serverAddr(r, addrs)
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		env["REMOTE_ADDR"], env["REMOTE_PORT"] = remotes.box(host), port
	} else if r.RemoteAddr != "" {
		env["REMOTE_ADDR"] = r.RemoteAddr
	}
	if r.Host != "" {
		env["HTTP_HOST"] = hosts.box(r.Host)
	}
	for name, values := range r.Header {
		if strings.IndexByte(name, '_') >= 0 {
			continue
		}
		env[cgiKey(name)] = strings.Join(values, ",")
	}

	env["wsgi.version"] = versionValue
	if r.TLS != nil {
		env["wsgi.url_scheme"] = "https"
	} else {
		env["wsgi.url_scheme"] = "http"
	}
	env["wsgi.input"] = in
	env["wsgi.errors"] = errs
	env["wsgi.multithread"] = true
	env["wsgi.multiprocess"] = false
	env["wsgi.run_once"] = false
	env["wsgo.context"] = r.Context()
	return env
}

// cgiKey maps a canonical header name to its environ key.
func cgiKey(name string) string {
	switch name {
	case "Content-Type":
		return "CONTENT_TYPE"
	case "Content-Length":
		return "CONTENT_LENGTH"
	}
	if k, ok := keyCache[name]; ok {
		return k
	}
	return headerKey(name)
}

// headerKey is HTTP_ and the name in upper case, "-" turned to "_".
func headerKey(name string) string {
	b := make([]byte, 0, len("HTTP_")+len(name))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// serverAddr returns SERVER_NAME and SERVER_PORT: the address the request
// arrived on, or failing that the Host header, as CGI servers do.
func serverAddr(r *http.Request, cache *atomic.Pointer[serverAddrCache]) (any, any) {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		tcp, cacheable := a.(*net.TCPAddr)
		cacheable = cacheable && cache != nil
		if cacheable {
			if c := cache.Load(); c != nil && c.is(tcp) {
				return c.name, c.port
			}
		}
		if host, port, err := net.SplitHostPort(a.String()); err == nil {
			if cacheable {
				cache.Store(&serverAddrCache{addr: *tcp, name: host, port: port})
			}
			return host, port
		}
	}
	if host, port, err := net.SplitHostPort(r.Host); err == nil {
		return host, port
	}
	if r.Host != "" {
		return r.Host, "80"
	}
	return "localhost", "80"
}

// input is wsgi.input: the request body without its Close, which belongs to
// the server. It remembers a failed read: the client went away mid-body.
type input struct {
	r    io.Reader
	n    int64
	fail error
}

func (in *input) Read(p []byte) (int, error) {
	if in.r == nil {
		return 0, io.EOF
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	if err != nil && err != io.EOF && in.fail == nil {
		in.fail = err
	}
	return n, err
}
