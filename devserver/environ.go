package devserver

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/wsgo/wsgo/apps"
)

// Software is the SERVER_SOFTWARE value and the Server header wsgo sends.
const Software = "wsgo"

var version = apps.Version{Major: 1, Minor: 0}

// Environ builds the environ for r as PEP 3333 defines it, with wsgi.errors
// writing to standard error. Servers built on [Gateway] need not call it; it
// is here for tests and for other servers.
//
// PATH_INFO is percent-decoded and QUERY_STRING left raw. Each request header
// becomes one HTTP_* key, repeats joined with ","; Content-Type and
// Content-Length appear only as CONTENT_TYPE and CONTENT_LENGTH; a header whose
// name holds "_" is dropped, since it would otherwise read as the dashed header
// of the same name. Nothing from the process environment is copied in.
func Environ(r *http.Request) apps.Environ {
	return newEnviron(r, os.Stderr)
}

func newEnviron(r *http.Request, errs io.Writer) apps.Environ {
	env := make(apps.Environ, 24+len(r.Header))
	env["REQUEST_METHOD"] = r.Method
	env["SCRIPT_NAME"] = ""
	env["PATH_INFO"] = r.URL.Path
	env["QUERY_STRING"] = r.URL.RawQuery
	env["REQUEST_URI"] = r.RequestURI
	env["SERVER_PROTOCOL"] = r.Proto
	env["SERVER_SOFTWARE"] = Software
	env["GATEWAY_INTERFACE"] = "CGI/1.1"
	env["SERVER_NAME"], env["SERVER_PORT"] = serverAddr(r)
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		env["REMOTE_ADDR"], env["REMOTE_PORT"] = host, port
	} else if r.RemoteAddr != "" {
		env["REMOTE_ADDR"] = r.RemoteAddr
	}
	if r.Host != "" {
		env["HTTP_HOST"] = r.Host
	}
	for name, values := range r.Header {
		if strings.IndexByte(name, '_') >= 0 {
			continue
		}
		env[cgiKey(name)] = strings.Join(values, ",")
	}

	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	env["wsgi.version"] = version
	env["wsgi.url_scheme"] = scheme
	env["wsgi.input"] = &input{r: r.Body}
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
func serverAddr(r *http.Request) (string, string) {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if host, port, err := net.SplitHostPort(a.String()); err == nil {
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
