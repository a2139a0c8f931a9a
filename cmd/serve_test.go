package cmd

import (
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/reload/control"
	"github.com/wsgo/wsgo/serve"
)

// TestRunServerDrains: a request in flight when the stop comes still gets
// its whole answer, and the server then returns cleanly.
func TestRunServerDrains(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight, release := make(chan struct{}), make(chan struct{})
	in := &instance{Run: serve.Run{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release
		io.WriteString(w, "finished")
	}), Grace: 10 * time.Second, ErrorLog: io.Discard}, log: devserver.NewLogger(io.Discard, false)}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- in.run(ctx, nil, ln, nil) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-inFlight
	stop()
	// The listener closes at once: new connections are refused while the
	// old request finishes.
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-served; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestCutOffRequestsAreNamed: a request still running when the grace runs
// out is cut off, and the error says which, once, in words.
func TestCutOffRequestsAreNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	in := &instance{Run: serve.Run{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release
	}), Grace: 100 * time.Millisecond, ErrorLog: io.Discard}, log: devserver.NewLogger(io.Discard, false)}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- in.run(ctx, nil, ln, nil) }()
	go http.Get("http://" + ln.Addr().String() + "/stuck?x=1")
	<-inFlight
	stop()
	err = <-served
	if err == nil {
		t.Fatal("run returned nil after cutting a request off")
	}
	if msg := err.Error(); !strings.Contains(msg, "cut off: GET /stuck?x=1 (running") || strings.Contains(msg, "deadline") {
		t.Errorf("error = %q; want the request named, in words", msg)
	}
}

// TestMessagesFromTheSupervisor: reload-pages reaches the browsers' hook
// and the server goes on; stop then ends it cleanly.
func TestMessagesFromTheSupervisor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan struct{})
	in := &instance{Run: serve.Run{Handler: http.NotFoundHandler(), Grace: time.Second, ErrorLog: io.Discard,
		Reload: func() { close(reloaded) }}, log: devserver.NewLogger(io.Discard, false)}
	msgs := make(chan control.Message)
	served := make(chan error, 1)
	go func() { served <- in.run(context.Background(), nil, ln, msgs) }()
	msgs <- control.ReloadPages
	<-reloaded
	msgs <- control.Stop
	if err := <-served; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestBrowserCommands: $BROWSER as Python's webbrowser reads it: commands
// separated by colons, tried in turn, %s where the URL goes.
func TestBrowserCommands(t *testing.T) {
	const url = "http://127.0.0.1:8000"
	for env, want := range map[string][][]string{
		"firefox":                     {{"firefox", url}},
		"/opt/b.sh %s":                {{"/opt/b.sh", url}},
		"chromium --new-window %s:ff": {{"chromium", "--new-window", url}, {"ff", url}},
		"w3m '%s'":                    {{"w3m", "'" + url + "'"}},
		"::firefox":                   {{"firefox", url}},
	} {
		if got := browserCommands(env, url); !reflect.DeepEqual(got, want) {
			t.Errorf("BROWSER=%q: %q, want %q", env, got, want)
		}
	}
}
