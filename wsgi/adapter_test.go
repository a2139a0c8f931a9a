package wsgi

import (
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/internal/testkit"
)

func TestAppAdaptsAnHTTPHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		fmt.Fprintf(w, "hello %s from %s", r.PathValue("name"), r.RemoteAddr)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "%s %s %s", r.Header.Get("X-Token"), r.URL.Query().Get("q"), b)
	})
	srv := httptest.NewServer(Handler(FromHandler(mux)))
	defer srv.Close()

	resp, body, err := testkit.Get(t, srv.URL+"/hello/Ada")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "hello Ada from 127.0.0.1:") || len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("%d %v %q", resp.StatusCode, resp.Header, body)
	}

	req, _ := http.NewRequest("POST", srv.URL+"/echo?q=x%20y", strings.NewReader("payload"))
	req.Header.Set("X-Token", "t0k")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(b) != "t0k x y payload" {
		t.Errorf("%d %q", resp.StatusCode, b)
	}

	resp, _, _ = testkit.Get(t, srv.URL+"/nowhere")
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

// A handler mounted below a prefix sees the path below it, as with
// http.StripPrefix, and the original request URI.
func TestAppSeesPathInfo(t *testing.T) {
	var gotPath, gotURI string
	app := FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotURI = r.URL.Path, r.RequestURI
	}))
	mount := AppFunc(func(env Environ, start StartResponse) iter.Seq[[]byte] {
		env["SCRIPT_NAME"] = "/api"
		env["PATH_INFO"] = strings.TrimPrefix(env.PathInfo(), "/api")
		return app.ServeWSGI(env, start)
	})
	srv := httptest.NewServer(Handler(mount))
	defer srv.Close()
	resp, _, err := testkit.Get(t, srv.URL+"/api/a%3Fb")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || gotPath != "/a?b" || gotURI != "/api/a%3Fb" {
		t.Errorf("%d path %q uri %q", resp.StatusCode, gotPath, gotURI)
	}
}
