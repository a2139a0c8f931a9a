package devserver

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"

	"github.com/wsgo/wsgo/internal/termsafe"
	"github.com/wsgo/wsgo/wsgi"

	"github.com/wsgo/wsgo/internal/logbatch"
	"github.com/wsgo/wsgo/internal/recorder"
)

// A Logger writes wsgo's request log and its messages, one line each, in
// colour when asked to. It is safe for concurrent use. It is a [wsgi.Logger]:
// as an io.Writer it is the wsgi.errors stream apps write to.
type Logger struct {
	out *logbatch.Writer // request lines held for a batch (see Batch), then the rest
	now func() time.Time

	bold, cyan, green, yellow, boldRed, boldMagenta, red, faint *color.Color
}

// NewLogger returns a Logger writing to w, with ANSI colour if colored is true.
// Whether a terminal is there, and whether NO_COLOR is set, is the caller's
// decision: see [ColorFor].
func NewLogger(w io.Writer, colored bool) *Logger {
	l := &Logger{out: logbatch.New(w, "02/Jan/2006 15:04:05"), now: time.Now}
	l.bold = paint(colored, color.Bold)
	l.cyan = paint(colored, color.FgCyan)
	l.green = paint(colored, color.FgGreen)
	l.yellow = paint(colored, color.FgYellow)
	l.boldRed = paint(colored, color.Bold, color.FgRed)
	l.boldMagenta = paint(colored, color.Bold, color.FgMagenta)
	l.red = paint(colored, color.FgRed)
	l.faint = paint(colored, color.Faint)
	return l
}

func paint(on bool, attrs ...color.Attribute) *color.Color {
	c := color.New(attrs...)
	if on {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c
}

// ColorFor reports whether output to f should be coloured: only on a
// terminal, and never when NO_COLOR is set (https://no-color.org).
func ColorFor(f *os.File) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isatty.IsTerminal(f.Fd())
}

// Write writes p to the log as it is; it makes the Logger wsgi.errors.
func (l *Logger) Write(p []byte) (int, error) { return l.out.Write(p) }

// Batch makes the Logger hold request lines for up to delay and write them
// together: under load, one write carries many requests' lines instead of
// one write each. Everything else it writes (messages, failures, what apps
// write to wsgi.errors) first writes what is held, so that the order of
// lines is kept. Call Flush before the process exits.
func (l *Logger) Batch(delay time.Duration) { l.out.Batch(delay) }

// Flush writes the request lines held for a batch.
func (l *Logger) Flush() { l.out.Flush() }

func (l *Logger) line(c *color.Color, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c != nil {
		msg = c.Sprint(msg)
	}
	fmt.Fprintln(l.out, msg)
}

// Failf writes a red line, as Errorf does, and under it detail (a stack),
// each line indented; no other line can come between them.
func (l *Logger) Failf(detail, format string, args ...any) {
	var b strings.Builder
	b.WriteString(l.red.Sprintf(format, args...) + "\n")
	for line := range strings.Lines(detail) {
		b.WriteString("    " + strings.ReplaceAll(strings.TrimSuffix(line, "\n"), "\t", "    ") + "\n")
	}
	io.WriteString(l.out, b.String())
}

// Failed writes an app's failure as a [wsgi.Gateway] reports it: a red line
// naming the app and the request, and under it the user's frames of a
// panic's stack, each with its line of source, and how many other frames
// the error page folds away. Without frames of the user's, it writes the
// gateway's stack as it is.
func (l *Logger) Failed(r *http.Request, f *wsgi.Failure) {
	l.failed(r, f, frameClasses())
}

func (l *Logger) failed(r *http.Request, f *wsgi.Failure, c classifier) {
	// A panic's message often holds the client's text: escaped too.
	head := fmt.Sprintf("app %q failed on %s %s: %s", f.App, r.Method, termsafe.Escape(r.RequestURI), termsafe.Escape(clip(f.Err.Error(), maxMessage)))
	frames, others := c.failureFrames(f)
	user := userFrames(frames)
	why := whyNotLocal(r)
	if len(user) == 0 {
		detail := string(f.Stack)
		if why != "" {
			detail = strings.TrimRight(detail, "\n") + "\n" + hidden(why)
		}
		l.Failf(detail, "%s", head)
		return
	}
	var b strings.Builder
	b.WriteString(l.red.Sprint(head) + "\n")
	for _, fr := range user[:min(len(user), maxFrameSources)] {
		fmt.Fprintf(&b, "    %s\n        %s\n", l.bold.Sprint(fr.Function), l.cyan.Sprintf("%s:%d", shortPath(fr.File), fr.Line))
		if line := cmp.Or(sourceLine(fr.File, fr.Line), fr.Source); line != "" {
			fmt.Fprintf(&b, "        %s %s\n", l.faint.Sprintf("%d |", fr.Line), line)
		}
		if fr.stale() {
			b.WriteString(l.yellow.Sprintf("        (%s)", staleNote) + "\n")
		}
	}
	if n := len(user) - maxFrameSources; n > 0 {
		b.WriteString(l.faint.Sprintf("    … %d more frames of yours", n) + "\n")
	}
	if cut := stackCut(f.Frames); cut != "" {
		b.WriteString(l.faint.Sprintf("    (%s)", cut) + "\n")
	}
	if n := len(frames) - len(user); n > 0 {
		b.WriteString(l.faint.Sprintf("    (%d frames of %s: on the error page)", n, others.terminal) + "\n")
	}
	if why != "" {
		b.WriteString("    " + l.yellow.Sprint(hidden(why)) + "\n")
	}
	io.WriteString(l.out, b.String())
}

// hidden is the line that says why a client got a bare 500 for a failure
// that the terminal shows.
func hidden(why string) string {
	return "details not shown to this client: " + why
}

// Printf writes a plain line.
func (l *Logger) Printf(format string, args ...any) { l.line(nil, format, args...) }

// Errorf writes a line in red: something failed and the user should look.
func (l *Logger) Errorf(format string, args ...any) { l.line(l.red, format, args...) }

// Notef writes a faint line: worth knowing, nothing to act on.
func (l *Logger) Notef(format string, args ...any) { l.line(l.faint, format, args...) }

// Successf writes a green line: something worked.
func (l *Logger) Successf(format string, args ...any) { l.line(l.green, format, args...) }

// Highlightf writes a bold line, for banners.
func (l *Logger) Highlightf(format string, args ...any) { l.line(l.bold, format, args...) }

// Request writes one request log line in Werkzeug's shape, with the bytes
// sent and the time taken where Werkzeug writes "-":
//
//	127.0.0.1 - - [25/Nov/2026 07:51:53] "GET /get/prefix?ip= HTTP/1.1" 200 1234 1.2ms
func (l *Logger) Request(r *http.Request, status int, size int64, took time.Duration, note string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	req := ""
	if c := l.statusColor(status); c != nil {
		req = c.Sprint(r.Method + " " + termsafe.Escape(r.RequestURI) + " " + r.Proto)
	}
	if note != "" {
		note = l.red.Sprint(note)
	}
	// Formatted in place, in the buffer that holds the batch: a line costs
	// no allocation of its own.
	l.out.Hold(l.now(), func(b, stamp []byte) []byte {
		b = append(b, host...)
		b = append(b, " - - ["...)
		b = append(b, stamp...)
		b = append(b, "] \""...)
		if req != "" {
			b = append(b, req...)
		} else {
			b = append(b, r.Method...)
			b = append(b, ' ')
			b = termsafe.Append(b, r.RequestURI)
			b = append(b, ' ')
			b = append(b, r.Proto...)
		}
		b = append(b, "\" "...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, size, 10)
		b = append(b, ' ')
		b = appendDuration(b, took)
		if note != "" {
			b = append(b, ' ')
			b = append(b, note...)
		}
		return append(b, '\n')
	})
}

// statusColor follows Werkzeug's table, except that every 2xx is plain.
func (l *Logger) statusColor(code int) *color.Color {
	switch {
	case code < 200:
		return l.bold
	case code < 300:
		return nil
	case code == http.StatusNotModified:
		return l.cyan
	case code < 400:
		return l.green
	case code == http.StatusNotFound:
		return l.yellow
	case code < 500:
		return l.boldRed
	default:
		return l.boldMagenta
	}
}

// appendDuration appends d as the request log shows it: 850µs, 1.5ms, 2.25s.
func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, d.Microseconds(), 10), "µs"...)
	case d < time.Second:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 1, 64), "ms"...)
	default:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 2, 64), 's')
	}
}

// LogRequests wraps h so that every request writes one line to l when it
// ends, including a request whose connection was aborted. Under a
// [LiveReload], the line waits for the injected script, so that its size is
// the bytes sent.
func LogRequests(h http.Handler, l *Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorder.New(w)
		defer func() {
			note := ""
			v := recover()
			if v != nil {
				note = "(connection aborted)"
			}
			status := rec.Status()
			if s := sizerOf(w); s != nil {
				// The size is known once the response is complete.
				s.whenSent(func(size int64) { l.Request(r, status, size, time.Since(start), note) })
			} else {
				l.Request(r, status, rec.Size(), time.Since(start), note)
			}
			if v != nil {
				panic(v)
			}
		}()
		h.ServeHTTP(rec, r)
	})
}

// A sizer is a ResponseWriter that changes the body on its way out, as
// [LiveReload] does, and so knows the size sent only after the handler it
// wraps has returned.
type sizer interface {
	whenSent(f func(sent int64))
}

// sizerOf finds the sizer among w and the writers it wraps, if any.
func sizerOf(w http.ResponseWriter) sizer {
	for {
		if s, ok := w.(sizer); ok {
			return s
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}
