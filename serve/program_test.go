package serve

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
)

// TestProgramParse: a Program has Main's server flags and its own, in any
// order around its arguments, which its Check names; a mistake in either
// is a usage error.
func TestProgramParse(t *testing.T) {
	var workers int
	p := &Program{
		Command: []string{"/usr/bin/wsgo", "run"},
		Flags:   func(fs *flag.FlagSet) { fs.IntVar(&workers, "workers", 1, "processes") },
		Check: func(args []string) (string, error) {
			if len(args) != 1 {
				return "", errors.New("want one TARGET")
			}
			return args[0], nil
		},
		Start: func(context.Context, string, Logs) (wsgi.App, func(), error) { return nil, nil, nil },
	}
	o, err := p.parse("wsgo run", []string{"-port", "8102", "app.py:app", "--workers", "3", "-proxy", "127.0.0.1"}, io.Discard)
	if err != nil || o.app != "app.py:app" || o.port != 8102 || workers != 3 || len(o.proxy) != 1 {
		t.Errorf("parse: app %q port %d workers %d proxy %v, %v", o.app, o.port, workers, o.proxy, err)
	}
	if _, err := p.parse("wsgo run", []string{"-port", "1"}, io.Discard); err == nil || err.Error() != "want one TARGET" {
		t.Errorf("no target: %v", err)
	}
	if _, err := p.parse("wsgo run", []string{"app.py", "-mount", "/a=b"}, io.Discard); err == nil {
		t.Errorf("-mount, which a Program does not have, was taken")
	}
	if _, err := p.parse("wsgo run", []string{"app.py", "-log-format", "xml"}, io.Discard); err == nil {
		t.Errorf("-log-format xml was taken")
	}
}

// TestLineWriter: output that comes in pieces is passed on a line at a
// time, and a line too long for a record is cut.
func TestLineWriter(t *testing.T) {
	var got []string
	l := &lineWriter{w: writerFunc(func(p []byte) { got = append(got, string(p)) })}
	for _, s := range []string{"a", "b\nc\n", "\nd", "e\n"} {
		l.Write([]byte(s))
	}
	if want := []string{"ab", "c", "", "de"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	got = nil
	l.Write([]byte(strings.Repeat("x", maxLine+10)))
	if len(got) != 1 || len(got[0]) != maxLine+10 {
		t.Errorf("a long line: %d records", len(got))
	}
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
