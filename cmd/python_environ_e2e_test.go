//go:build unix

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/testkit"
)

// environApp answers the string items of its environ, as JSON, but those
// wsgiref copies from its process environment into every request.
const environApp = `import json
import os


def app(environ, start_response):
    items = {k: v for k, v in environ.items()
             if isinstance(v, str) and os.environ.get(k) != v}
    body = json.dumps(items).encode()
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
`

const wsgirefServer = `import sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
sys.path.insert(0, '.')
from app import app

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server('127.0.0.1', int(sys.argv[1]), app, handler_class=Quiet)
print('serving', flush=True)
server.serve_forever()
`

// TestPythonEnvironAgainstWsgiref: the same Python app's environ under
// wsgiref and under wsgo, key by key, differs only as docs/python.md says.
func TestPythonEnvironAgainstWsgiref(t *testing.T) {
	py := needPython(t)
	dir := testkit.Tree(t, map[string]string{"app.py": environApp})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := exec.CommandContext(ctx, py, "-c", wsgirefServer, fmt.Sprint(port))
	ref.Dir = dir
	out, _ := ref.StdoutPipe()
	if err := ref.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); ref.Wait() }()
	if _, err := out.Read(make([]byte, 7)); err != nil {
		t.Fatalf("wsgiref did not start: %v", err)
	}
	s := servePy(t, dir, "app.py", "--port", "0", "--python", py)

	const path = "/a%20b/caf%C3%A9?x=1&y=%20"
	header := []string{"X-Custom", "one", "Accept", "text/plain"}
	theirs := environOf(t, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), header)
	ours := environOf(t, s.url+path, header)

	onlyOurs := map[string]bool{"REQUEST_URI": true, "REMOTE_PORT": true}
	differ := map[string]bool{"SERVER_PORT": true, "HTTP_HOST": true, "SERVER_SOFTWARE": true, "SERVER_NAME": true, "REMOTE_HOST": true}
	for k, v := range theirs {
		switch w, ok := ours[k]; {
		case !ok && (k == "CONTENT_TYPE" || k == "CONTENT_LENGTH" || k == "REMOTE_HOST"):
			// wsgiref's defaults for what the client did not send
		case !ok:
			t.Errorf("%s = %q under wsgiref, missing under wsgo", k, v)
		case w != v && !differ[k]:
			t.Errorf("%s = %q under wsgiref, %q under wsgo", k, v, w)
		}
	}
	for k, v := range ours {
		if _, ok := theirs[k]; !ok && !onlyOurs[k] && !strings.HasPrefix(k, "wsgo.") {
			t.Errorf("%s = %q under wsgo, missing under wsgiref", k, v)
		}
	}
	if ours["PATH_INFO"] != "/a b/cafÃ©" {
		t.Errorf("PATH_INFO %q: want the latin-1 decoding of the UTF-8 bytes", ours["PATH_INFO"])
	}
}

func environOf(t *testing.T, url string, header []string) map[string]string {
	t.Helper()
	code, body, err := fetchBody(http.DefaultClient, url, header...)
	if err != nil || code != 200 {
		t.Fatalf("GET %s: %d %v\n%s", url, code, err, body)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	return env
}
