package serve

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
)

// TestParsePortDecimalOnly: a port is written in decimal, in both the dev
// CLI and the production program; Go's other number forms are refused.
func TestParsePortDecimalOnly(t *testing.T) {
	for in, want := range map[string]string{
		"8000": "", "0": "", "65535": "",
		"0x1F40": "want a whole number", "8_0_8_0": "want a whole number", "-1": "want a whole number",
		"": "want a whole number", "+80": "want a whole number", " 80": "want a whole number",
		"65536": "from 1 to 65535", "99999999999999999999": "from 1 to 65535",
	} {
		_, err := ParsePort(in)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePort(%q) = %v, want %q", in, err, want)
		}
	}
}

// TestProductionPortFlag: the built program reads -port and WSGO_PORT as
// the dev CLI does.
func TestProductionPortFlag(t *testing.T) {
	for _, args := range [][]string{{"-port", "0x1F40", "a"}, {"-port", "8_0_8_0", "a"}, {"-port", "70000", "a"}} {
		if _, err := parse("site", args, io.Discard); err == nil {
			t.Errorf("parse(%q) took the port", args)
		}
	}
	t.Setenv("WSGO_PORT", "0x50")
	if _, err := parse("site", []string{"a"}, io.Discard); err == nil || !strings.Contains(err.Error(), `invalid WSGO_PORT="0x50": want a whole number`) {
		t.Errorf("WSGO_PORT=0x50: %v", err)
	}
}

func TestCheckHost(t *testing.T) {
	for _, ok := range []string{"127.0.0.1", "::1", "0.0.0.0", "localhost", "my-host.example"} {
		if err := CheckHost(ok); err != nil {
			t.Errorf("CheckHost(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bad host", "300.1.1.1", "-x", "a..b"} {
		if CheckHost(bad) == nil {
			t.Errorf("CheckHost(%q) took it", bad)
		}
	}
}

func TestParseMount(t *testing.T) {
	if p, a, err := ParseMount("/blog=blog"); err != nil || p != "/blog" || a != "blog" {
		t.Errorf("ParseMount(/blog=blog) = %q %q %v", p, a, err)
	}
	for _, bad := range []string{"/blog", "=blog", "/blog=", ""} {
		if _, _, err := ParseMount(bad); err == nil {
			t.Errorf("ParseMount(%q) took it", bad)
		}
	}
}

// TestListenInUseAdvice: a port in use gets the next free one to try,
// named with the program's own flag.
func TestListenInUseAdvice(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	_, err = Listen("127.0.0.1", port, "-port", "-host")
	if err == nil || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" is in use; try -port ") {
		t.Errorf("Listen on a busy port: %v", err)
	}
}

// TestListenFailureInLogFormat: a program that cannot listen says so in
// its log's format, a JSON record at ERROR under -log-format json, and
// exits 1.
func TestListenFailureInLogFormat(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	p := &Program{
		Command: []string{"site"},
		Check:   func([]string) (string, error) { return "app", nil },
		Start:   func(context.Context, string, Logs) (wsgi.App, func(), error) { panic("started without a socket") },
	}
	var stderr strings.Builder
	code := p.Main([]string{"-port", port, "-log-format", "json"}, io.Discard, &stderr)
	var rec struct{ Level, Msg string }
	if err := json.Unmarshal([]byte(stderr.String()), &rec); err != nil || code != ExitFailure || rec.Level != "ERROR" || !strings.Contains(rec.Msg, "port "+port+" is in use") {
		t.Errorf("exit %d, want %d, and one JSON record at ERROR (%v):\n%s", code, ExitFailure, err, stderr.String())
	}
}

// TestBadFlagSaidOnce: a flag the program refuses is told once, in one
// line with the way to see the flags, not above the whole usage, and the
// program exits 2; a check of the values after the flags is one line.
// -help prints the usage and exits 0.
func TestBadFlagSaidOnce(t *testing.T) {
	for _, tt := range []struct {
		args []string
		said string
		code int
	}{
		{[]string{"-port", "0x50"}, "site: invalid value \"0x50\" for flag -port: want a whole number\nRun 'site -help' to see the flags.\n", ExitUsage},
		{[]string{"-bogus"}, "site: flag provided but not defined: -bogus\nRun 'site -help' to see the flags.\n", ExitUsage},
		{[]string{"a", "-grace", "0s"}, "site: invalid -grace 0s: want a positive duration, such as 10s\n", ExitUsage},
	} {
		var stderr strings.Builder
		if code := run("site", tt.args, io.Discard, &stderr); code != tt.code || stderr.String() != tt.said {
			t.Errorf("%q: exit %d, want %d, and\n%s\nwant\n%s", tt.args, code, tt.code, stderr.String(), tt.said)
		}
	}
	var stderr strings.Builder
	if code := run("site", []string{"-help"}, io.Discard, &stderr); code != 0 || !strings.HasPrefix(stderr.String(), "Usage: site [flags] [APP]") || !strings.Contains(stderr.String(), "-write-timeout") {
		t.Errorf("-help: exit %d:\n%s", code, stderr.String())
	}
}
