package wsgi

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wsgirefApp prints each request's environ as JSON, values as the hex of
// their bytes (wsgiref decodes them as latin-1, PEP 3333's "bytes as str").
const wsgirefApp = `
import json, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

def app(environ, start_response):
    n = environ.get("CONTENT_LENGTH") or "0"
    environ["wsgi.input"].read(int(n))
    rec = {}
    for k, v in environ.items():
        if isinstance(v, str):
            try:
                rec[k] = v.encode("latin-1").hex()
            except UnicodeEncodeError:
                pass
    print(json.dumps(rec), flush=True)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

srv = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(srv.server_port, flush=True)
srv.serve_forever()
`

// wsgiref starts Python's reference server and returns its address and the
// environs it reports.
func wsgiref(t *testing.T) (string, <-chan map[string]string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal("python3 is not installed, and WSGO_NO_SKIP is set")
		}
		t.Skip("python3 is not installed: the wsgiref parity test needs it")
	}
	script := filepath.Join(t.TempDir(), "wsgiref_app.py")
	if err := os.WriteFile(script, []byte(wsgirefApp), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Env = append(os.Environ(), "WSGO_PARITY_SECRET=only-in-wsgiref")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		t.Fatal("wsgiref did not start")
	}
	addr := "127.0.0.1:" + strings.TrimSpace(sc.Text())
	envs := make(chan map[string]string, 1)
	go func() {
		defer close(envs)
		for sc.Scan() {
			var rec map[string]string
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			env := map[string]string{}
			for k, v := range rec {
				b, _ := hex.DecodeString(v)
				env[k] = string(b)
			}
			envs <- env
		}
	}()
	return addr, envs
}

// wsgoDemo serves an app (as "demo") that reports the string values of each environ.
func wsgoDemo(t *testing.T) (string, <-chan map[string]string) {
	t.Helper()
	envs := make(chan map[string]string, 1)
	capture := AppFunc(func(env Environ, start StartResponse) iter.Seq[[]byte] {
		io.Copy(io.Discard, env.Input())
		rec := map[string]string{}
		for k, v := range env {
			if s, ok := v.(string); ok {
				rec[k] = s
			}
		}
		envs <- rec
		return ok(env, start)
	})
	srv := httptest.NewServer(&Gateway{App: capture, Name: "demo", Log: testLog(io.Discard)})
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), envs
}

// exchange sends one raw request and returns the environ the app saw.
func exchange(t *testing.T, addr string, envs <-chan map[string]string, raw string) map[string]string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s answered %d to %q", addr, resp.StatusCode, raw)
	}
	select {
	case env := <-envs:
		return env
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the app never saw %q", addr, raw)
	}
	return nil
}

// intended lists where wsgo differs from wsgiref on purpose, and why. The
// same list is in docs/environ.md.
var intended = map[string]string{
	"HTTP_X_AUTH_USER": "wsgiref merges an X-Auth_User header into HTTP_X_AUTH_USER, letting a client spoof a header a proxy set; wsgo drops names with _",
	"CONTENT_TYPE":     "wsgiref defaults CONTENT_TYPE to text/plain when none was sent; wsgo sets it only when sent",
	"CONTENT_LENGTH":   "wsgiref sets CONTENT_LENGTH to \"\" when none was sent; wsgo leaves out keys with no value",
}

func TestParityWithWsgiref(t *testing.T) {
	refAddr, refEnvs := wsgiref(t)
	ourAddr, ourEnvs := wsgoDemo(t)

	requests := []string{
		"GET /get/prefix?ip= HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /a%20b%2Fc;p?x=%20y&z=a+b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /caf%C3%A9/%E2%82%AC?q=%C3%A9 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /?a=&a=1&b&&c= HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /h HTTP/1.1\r\nHost: h\r\nX-Multi: 1\r\nX-Multi: 2\r\nAccept: a\r\naccept: b\r\nConnection: close\r\n\r\n",
		"GET /spoof HTTP/1.1\r\nHost: h\r\nX-Auth_User: admin\r\nX-Auth-User: alice\r\nConnection: close\r\n\r\n",
		"POST /form?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\nConnection: close\r\n\r\na=1&b=2",
		"HEAD /head HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"OPTIONS /opt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /old HTTP/1.0\r\nHost: h\r\n\r\n",
	}
	for _, raw := range requests {
		name, _, _ := strings.Cut(raw, "\r\n")
		t.Run(name, func(t *testing.T) {
			ref := exchange(t, refAddr, refEnvs, raw)
			ours := exchange(t, ourAddr, ourEnvs, raw)
			keys := []string{"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_PROTOCOL"}
			for k := range ref {
				if strings.HasPrefix(k, "HTTP_") {
					keys = append(keys, k)
				}
			}
			sent := strings.Contains(raw, "Content-Length:")
			if sent {
				keys = append(keys, "CONTENT_TYPE", "CONTENT_LENGTH")
			}
			for _, k := range keys {
				if why, ok := intended[k]; ok && !(sent && strings.HasPrefix(k, "CONTENT_")) {
					t.Logf("%s differs on purpose: %s", k, why)
					continue
				}
				if ref[k] != ours[k] {
					t.Errorf("%s: wsgiref %q, wsgo %q", k, ref[k], ours[k])
				}
			}
			for k := range ours {
				if _, ok := ref[k]; !ok && strings.HasPrefix(k, "HTTP_") {
					t.Errorf("%s = %q in wsgo only", k, ours[k])
				}
			}
			// The intended differences, checked rather than assumed.
			if ref["WSGO_PARITY_SECRET"] == "" || ours["WSGO_PARITY_SECRET"] != "" || ours["PATH"] != "" {
				t.Errorf("process environment: wsgiref has the secret %q, wsgo %q", ref["WSGO_PARITY_SECRET"], ours["WSGO_PARITY_SECRET"])
			}
			if !sent {
				if _, ok := ours["CONTENT_TYPE"]; ok || ref["CONTENT_TYPE"] != "text/plain" {
					t.Errorf("CONTENT_TYPE not sent: wsgiref %q, wsgo %q", ref["CONTENT_TYPE"], ours["CONTENT_TYPE"])
				}
			}
			if strings.Contains(raw, "X-Auth_User") {
				if ours["HTTP_X_AUTH_USER"] != "alice" || !strings.Contains(ref["HTTP_X_AUTH_USER"], "admin") {
					t.Errorf("underscore header: wsgiref %q, wsgo %q", ref["HTTP_X_AUTH_USER"], ours["HTTP_X_AUTH_USER"])
				}
			}
		})
	}
}
