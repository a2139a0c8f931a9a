package serve

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestParseFlagsAroundTheApp: flags may come before and after the app's
// name, as wsgo build's own advice writes them (./site hello --port 8000).
func TestParseFlagsAroundTheApp(t *testing.T) {
	for _, args := range [][]string{
		{"hello", "--port", "8102", "-grace", "3s"},
		{"--port", "8102", "hello", "-grace=3s"},
		{"-grace", "3s", "--port=8102", "hello"},
	} {
		o, err := parse("site", args, io.Discard)
		if err != nil || o.app != "hello" || o.port != 8102 || o.grace != 3*time.Second {
			t.Errorf("parse(%q) = app %q port %d grace %s, %v", args, o.app, o.port, o.grace, err)
		}
	}
	if _, err := parse("site", []string{"a", "-port", "1", "b"}, io.Discard); err == nil || !strings.Contains(err.Error(), "one app at a time, got 2: a b") {
		t.Errorf("two apps: %v", err)
	}
}

// TestTextLogEscapesTheClient: a client address a trusted proxy forwarded
// is the proxy's client's text, and reaches the terminal escaped.
func TestTextLogEscapesTheClient(t *testing.T) {
	b := string(appendText(nil, &entry{client: "fe80::1%\x1b[31mred", method: "GET", uri: "/", proto: "HTTP/1.1", status: 200, start: time.Now()}))
	if strings.ContainsRune(b, '\x1b') || !strings.Contains(b, `\x1b[31mred`) {
		t.Errorf("logged %q", b)
	}
}

// TestParseReadTimeout: -read-timeout bounds the wait for a request body's
// next bytes; one given must be positive and shorter than the grace, which
// a client that sends nothing would hold; one not given is the Run's
// choice (see TestRunReadTimeout).
func TestParseReadTimeout(t *testing.T) {
	o, err := parse("site", []string{"hello", "-grace", "3s"}, io.Discard)
	if err != nil || o.readTimeout != 0 {
		t.Errorf("not given: %s, %v; want 0, for the Run to choose", o.readTimeout, err)
	}
	o, err = parse("site", []string{"hello", "-read-timeout", "30s", "-grace", "1m"}, io.Discard)
	if err != nil || o.readTimeout != 30*time.Second {
		t.Errorf("-read-timeout 30s: %s, %v", o.readTimeout, err)
	}
	if _, err := parse("site", []string{"hello", "-read-timeout", "0s"}, io.Discard); err == nil || !strings.Contains(err.Error(), "invalid -read-timeout 0s") {
		t.Errorf("-read-timeout 0s: %v", err)
	}
	if _, err := parse("site", []string{"hello", "-read-timeout", "10s", "-grace", "10s"}, io.Discard); err == nil || !strings.Contains(err.Error(), "want less than -grace 10s") {
		t.Errorf("-read-timeout as long as -grace: %v", err)
	}
}

func TestParseWriteTimeout(t *testing.T) {
	o, err := parse("site", []string{"hello"}, io.Discard)
	if err != nil || o.writeTimeout != DefaultWriteTimeout {
		t.Errorf("not given: %s, %v; want %s", o.writeTimeout, err, DefaultWriteTimeout)
	}
	o, err = parse("site", []string{"hello", "-write-timeout", "2m"}, io.Discard)
	if err != nil || o.writeTimeout != 2*time.Minute || o.newRun(nil, logs{}).WriteTimeout != 2*time.Minute {
		t.Errorf("-write-timeout 2m: %s, %v", o.writeTimeout, err)
	}
	if _, err := parse("site", []string{"hello", "-write-timeout", "0s"}, io.Discard); err == nil || !strings.Contains(err.Error(), "invalid -write-timeout 0s: want a positive duration") {
		t.Errorf("-write-timeout 0s: %v", err)
	}
}

// TestRunReadTimeout: a Run's read timeout is its own, or the default, but
// never as long as its grace, so that a client that sends nothing cannot
// hold a drain for all of it.
func TestRunReadTimeout(t *testing.T) {
	for _, tt := range []struct{ set, grace, want time.Duration }{
		{0, 0, DefaultReadTimeout},
		{0, time.Minute, DefaultReadTimeout},
		{0, 5 * time.Second, 2500 * time.Millisecond},
		{time.Second, time.Minute, time.Second},
	} {
		if got := (&Run{ReadTimeout: tt.set, Grace: tt.grace}).readTimeout(); got != tt.want {
			t.Errorf("ReadTimeout %s, Grace %s: %s, want %s", tt.set, tt.grace, got, tt.want)
		}
	}
}
