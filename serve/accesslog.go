package serve

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsgo/wsgo/wsgi"

	"github.com/wsgo/wsgo/internal/recorder"
)

// RequestIDKey is the environ key of the request's id in a program built
// by wsgo build: the X-Request-Id the request came with, if it is a usable
// one, or a new one. The same id is sent back in X-Request-Id and is the
// request_id of the request's log line, so that a report of a failure can
// be found in the log.
const RequestIDKey = "wsgo.request_id"

// maxRequestID is the longest X-Request-Id taken as it came.
const maxRequestID = 128

// An entry is one request's line in the access log.
type entry struct {
	rec     recorder.Response // the response, as it went out
	start   time.Time
	took    time.Duration // from start to the end of the response
	id      string
	ids     [2]string // the values of the request's and the response's X-Request-Id
	method  string
	uri     string
	proto   string
	peer    string // the address the request came from
	client  string // REMOTE_ADDR as the app saw it: the client's, behind a trusted proxy
	scheme  string
	host    string
	agent   string
	status  int
	bytes   int64
	aborted bool
}

type entryKey struct{}

// entryOf returns the log entry of the request ctx belongs to, or nil.
func entryOf(ctx context.Context) *entry {
	e, _ := ctx.Value(entryKey{}).(*entry)
	return e
}

// logRequests returns h with a request id given to every request and a
// line written by write for every request, once it has ended. If seen, the
// request's context carries its entry, for [seen] to find: a copy of the
// request, which a log of what the request itself says does without.
func logRequests(h http.Handler, write func(*entry), seen bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given := r.Header.Get("X-Request-Id")
		e := &entry{
			rec:    recorder.Response{ResponseWriter: w},
			start:  time.Now(),
			id:     requestID(given),
			method: r.Method,
			uri:    r.RequestURI,
			proto:  r.Proto,
			peer:   hostOf(r.RemoteAddr),
			host:   r.Host,
			agent:  r.UserAgent(),
		}
		e.client, e.scheme = e.peer, "http"
		if r.TLS != nil {
			e.scheme = "https"
		}
		// The entry holds the id's array for both headers, where Set would
		// allocate one for each; the request keeps the one it came with if
		// usable.
		e.ids = [2]string{e.id, e.id}
		ids := e.ids[:]
		if given != e.id || len(r.Header["X-Request-Id"]) != 1 {
			r.Header["X-Request-Id"] = ids[0:1:1]
		}
		w.Header()["X-Request-Id"] = ids[1:2:2]
		rec := &e.rec
		defer func() {
			e.status, e.bytes, e.took = rec.Status(), rec.Size(), time.Since(e.start)
			if v := recover(); v != nil {
				e.aborted = true
				if !rec.Answered() {
					e.status = 0 // no response went out at all
				}
				write(e)
				panic(v)
			}
			write(e)
		}()
		if seen {
			r = r.WithContext(context.WithValue(r.Context(), entryKey{}, e))
		}
		h.ServeHTTP(rec, r)
	})
}

// noted is the app with the request's id in its environ. logRequests put
// the id in X-Request-Id, whose value in the environ is shared, not boxed
// again.
func noted(app wsgi.App) wsgi.App {
	return wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		if id, ok := env["HTTP_X_REQUEST_ID"]; ok {
			env[RequestIDKey] = id
		}
		return app.ServeWSGI(env, start)
	})
}

// seen is the app that notes in the log entry the client, scheme and host
// it sees, which a trusted proxy in front of it may have changed from what
// the request says.
func seen(app wsgi.App) wsgi.App {
	return wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		if e := entryOf(env.Context()); e != nil {
			e.client, e.scheme, e.host = env.RemoteAddr(), env.Get("wsgi.url_scheme"), env.Get("HTTP_HOST")
		}
		return app.ServeWSGI(env, start)
	})
}

// requestID returns in if it is an id fit for a log line, or a new one:
// 128 random bits, from the runtime's generator (ChaCha8, seeded by the
// system), which costs no system call as crypto/rand may.
func requestID(in string) string {
	if len(in) > 0 && len(in) <= maxRequestID && strings.IndexFunc(in, badIDRune) < 0 {
		return in
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

func badIDRune(r rune) bool {
	ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:+/=@", r)
	return !ok
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// end is when the request ended, the time of its line: one reading of the
// clock for both.
func (e *entry) end() time.Time { return e.start.Add(e.took) }

// ms is how long the request took, in milliseconds.
func (e *entry) ms() float64 { return float64(e.took.Microseconds()) / 1000 }
