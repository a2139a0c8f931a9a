package devserver

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ReservedPrefix is the path prefix wsgo keeps for itself while it reloads;
// requests below it never reach the app.
const ReservedPrefix = "/__wsgo/"

//go:embed livereload.js
var liveReloadJS []byte

//go:embed livereload-worker.js
var liveReloadWorkerJS []byte

// maxInjectBuffer caps how much of an HTML response with a Content-Length is
// held to find its </body>; a larger one passes through untouched.
const maxInjectBuffer = 16 << 20

// LiveReload makes pages served by h reload themselves when a new build of
// the server is up. It adds a script tag before the last </body> of each
// HTML response and serves, under ReservedPrefix, that script and a
// Server-Sent Events stream that announces buildID. A page that reconnects
// to a server with another build id reloads.
type LiveReload struct {
	h http.Handler

	mu      sync.Mutex
	build   string        // the build id the server was started with
	reloads int           // Reload calls
	id      string        // what pages are told: build, and reloads if any
	tag     []byte        // the script tag, carrying id
	styles  int           // a count of ReloadStyles calls
	changed chan struct{} // closed by Reload and ReloadStyles

	closeOnce sync.Once
	closing   chan struct{}
}

// NewLiveReload wraps h, announcing buildID.
func NewLiveReload(h http.Handler, buildID string) *LiveReload {
	lr := &LiveReload{h: h, build: buildID, closing: make(chan struct{}), changed: make(chan struct{})}
	lr.setID()
	return lr
}

// setID derives what pages are told from the build and the reloads; the
// caller holds mu, or has the only reference.
func (lr *LiveReload) setID() {
	id := lr.build
	if lr.reloads > 0 {
		id += "~" + strconv.Itoa(lr.reloads)
	}
	lr.id = id
	lr.tag = fmt.Appendf(nil, `<script src="%slivereload.js" data-build="%s" data-styles="%d"></script>`, ReservedPrefix, html.EscapeString(id), lr.styles)
}

// current returns the id pages should have, its script tag, and a channel
// closed when it changes.
func (lr *LiveReload) current() (string, []byte, <-chan struct{}) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.id, lr.tag, lr.changed
}

// Reload tells every page this server served to reload, without a new
// build: what it showed changed on disk (a template, a stylesheet).
func (lr *LiveReload) Reload() {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.reloads++
	lr.setID()
	lr.notify()
}

// ReloadStyles tells every page this server served to fetch its
// stylesheets again, in place: a page keeps its scroll position, its form
// input and its script's state.
func (lr *LiveReload) ReloadStyles() {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.styles++
	lr.setID()
	lr.notify()
}

// notify wakes every event stream; the caller holds mu.
func (lr *LiveReload) notify() {
	close(lr.changed)
	lr.changed = make(chan struct{})
}

// Close ends every event stream, so that pages reconnect, to the next server,
// while this one drains.
func (lr *LiveReload) Close() {
	lr.closeOnce.Do(func() { close(lr.closing) })
}

// ServeHTTP serves the reserved paths and passes everything else to the app.
func (lr *LiveReload) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, ReservedPrefix); ok {
		lr.serveReserved(w, r, rest)
		return
	}
	_, tag, _ := lr.current()
	iw := &injector{ResponseWriter: w, tag: tag, head: r.Method == http.MethodHead}
	defer iw.done()
	lr.h.ServeHTTP(iw, r)
	iw.finish()
}

func (lr *LiveReload) serveReserved(w http.ResponseWriter, r *http.Request, rest string) {
	switch rest {
	case "livereload.js":
		serveScript(w, liveReloadJS)
	case "livereload-worker.js":
		serveScript(w, liveReloadWorkerJS)
	case "events":
		lr.serveEvents(w, r)
	default:
		http.Error(w, "404 not found: "+ReservedPrefix+" is wsgo's own", http.StatusNotFound)
	}
}

func serveScript(w http.ResponseWriter, js []byte) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(js)
}

// serveEvents streams the build id, then keeps the connection open until the
// client leaves or this server drains. The stream's end is the signal.
func (lr *LiveReload) serveEvents(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// nginx buffers a proxied response by default: the page would see a
	// build's id only when the next build ended the stream, one save late.
	h.Set("X-Accel-Buffering", "no")
	id, _, changed := lr.current()
	styles := lr.styleCount()
	// The stylesheets' count too: a page served before a change that came
	// before its stream must still swap them.
	fmt.Fprintf(w, "retry: 250\nevent: build\ndata: %s\n\nevent: css\ndata: %d\n\n", id, styles)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-lr.closing:
			return
		case <-changed:
			var next string
			next, _, changed = lr.current()
			if !lr.tell(w, rc, &id, next, &styles) {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// injector passes a response through, adding the script tag before the last
// </body> of an HTML body. A body with a Content-Length is held whole (up to
// maxInjectBuffer) so the length can be corrected; a streamed body flows
// through, holding back only what follows its latest </body>. A HEAD
// response goes the same way, its body dropped by net/http, so that its
// Content-Length is the one GET would get.
type injector struct {
	http.ResponseWriter
	tag  []byte
	head bool

	decided  bool
	inject   bool
	whole    bool   // a Content-Length body, held whole
	code     int    // status, while the headers are held
	declared int    // the whole body's Content-Length
	held     []byte // held body bytes
	failed   error
	sent     int64              // body bytes passed on, the tag included
	onDone   []func(sent int64) // see whenSent
}

func (iw *injector) decide(code int) {
	iw.decided = true
	h := iw.ResponseWriter.Header()
	ct := strings.ToLower(h.Get("Content-Type"))
	iw.inject = code != http.StatusNoContent && code != http.StatusNotModified && strings.HasPrefix(ct, "text/html") && h.Get("Content-Encoding") == ""
	if !iw.inject {
		return
	}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		iw.inject = err == nil && n <= maxInjectBuffer
		iw.whole, iw.declared = iw.inject, n
	}
}

func (iw *injector) WriteHeader(code int) {
	switch {
	case code < 200:
		iw.ResponseWriter.WriteHeader(code) // interim: the final response follows
		return
	case iw.decided:
		return // net/http ignores a second call too
	}
	iw.decide(code)
	if iw.whole {
		iw.code = code // sent by finish, with the corrected length
		return
	}
	iw.ResponseWriter.WriteHeader(code)
}

func (iw *injector) Write(p []byte) (int, error) {
	if !iw.decided {
		iw.WriteHeader(http.StatusOK)
	}
	if !iw.inject {
		return iw.send(p)
	}
	if iw.failed != nil {
		return 0, iw.failed
	}
	iw.held = append(iw.held, p...)
	if iw.whole {
		return len(p), nil
	}
	// Stream: send all before the latest "</body", and, past it, all but
	// a possible start of one.
	keep := lastBodyClose(iw.held)
	if keep < 0 {
		keep = max(0, len(iw.held)-len("</body"))
	}
	if keep > 0 {
		if _, err := iw.send(iw.held[:keep]); err != nil {
			iw.failed = err
			return 0, err
		}
		iw.held = append(iw.held[:0], iw.held[keep:]...)
	}
	return len(p), nil
}

// send writes p on, counting it.
func (iw *injector) send(p []byte) (int, error) {
	n, err := iw.ResponseWriter.Write(p)
	iw.sent += int64(n)
	return n, err
}

// finish sends what was held, with the tag in place if a </body> was found.
func (iw *injector) finish() {
	if !iw.inject || iw.failed != nil {
		return
	}
	body := iw.held
	if i := lastBodyClose(body); i >= 0 {
		body = bytes.Join([][]byte{body[:i], iw.tag, body[i:]}, nil)
	}
	if iw.whole {
		// A handler that answers HEAD without the body it declared leaves
		// nothing to inject into: its Content-Length stands.
		if !iw.head || len(iw.held) >= iw.declared {
			iw.ResponseWriter.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		iw.ResponseWriter.WriteHeader(iw.code)
	}
	iw.send(body)
}

// whenSent has f called with the number of body bytes sent, tag included,
// once the response is complete: only then is the size known.
func (iw *injector) whenSent(f func(sent int64)) {
	iw.onDone = append(iw.onDone, f)
}

// done runs the whenSent functions, even when the handler panicked.
func (iw *injector) done() {
	for _, f := range iw.onDone {
		f(iw.sent)
	}
}

// Flush sends what can be sent: a held whole body cannot be, yet.
func (iw *injector) Flush() {
	if iw.whole {
		return
	}
	http.NewResponseController(iw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (iw *injector) Unwrap() http.ResponseWriter { return iw.ResponseWriter }

// lastBodyClose returns the index of the last "</body" in b, any case, or -1.
func lastBodyClose(b []byte) int {
	for i := len(b) - len("</body"); i >= 0; i-- {
		if b[i] == '<' && b[i+1] == '/' && bytes.EqualFold(b[i+2:i+6], []byte("body")) {
			return i
		}
	}
	return -1
}

func (lr *LiveReload) styleCount() int {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.styles
}

// tell writes to one event stream what changed since it last wrote: a new
// id (the page reloads), or new stylesheets (swapped in place).
func (lr *LiveReload) tell(w http.ResponseWriter, rc *http.ResponseController, id *string, next string, styles *int) bool {
	if next != *id {
		*id = next
		if _, err := fmt.Fprintf(w, "event: build\ndata: %s\n\n", next); err != nil {
			return false
		}
	}
	if n := lr.styleCount(); n != *styles {
		*styles = n
		if _, err := fmt.Fprintf(w, "event: css\ndata: %d\n\n", n); err != nil {
			return false
		}
	}
	return rc.Flush() == nil
}
