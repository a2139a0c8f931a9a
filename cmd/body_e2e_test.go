//go:build unix

package cmd

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"

	"github.com/wsgo/wsgo/internal/testkit"
)

// answeredAndClosed checks that a stalled POST to the demo, which never
// reads its body, gets its answer and then loses its connection.
func answeredAndClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a POST whose body never came: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "The request method was POST") {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the answer: %v, want the connection closed", err)
	}
}

// TestStalledBodyInABuiltProgram: in a built program, a client that sends
// a request's headers and then nothing is answered (the demo never reads
// its body) and loses its connection after -read-timeout, and cannot hold
// a drain for the grace.
func TestStalledBodyInABuiltProgram(t *testing.T) {
	e2e(t)
	prog := filepath.Join(t.TempDir(), "site")
	build := exec.Command(wsgoBin, "build", "-o", prog)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("wsgo build: %v\n%s", err, out)
	}
	port := freePort(t)
	log := &syncbuf.Buffer{}
	c := exec.Command(prog, "demo", "-port", port, "-read-timeout", "300ms", "-grace", "2m")
	c.Stderr = log
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	t.Cleanup(func() {
		c.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("the program's log:\n%s", log)
		}
	})
	addr := "127.0.0.1:" + port
	waitForBody(t, "http://"+addr+"/", 200, "The request method was GET")

	for range 3 {
		_, br := testkit.StalledPost(t, addr, "/get/prefix", "")
		answeredAndClosed(t, br)
	}

	testkit.StalledPost(t, addr, "/get/prefix", "")
	c.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a client that sent nothing held the drain")
	}
}

// TestStalledBodyInTheDevServer: wsgo serve answers a stalled POST too,
// once the request body has sent nothing for its read timeout.
func TestStalledBodyInTheDevServer(t *testing.T) {
	e2e(t)
	s := startServe(t, nil, "serve", "demo", "--port", "0", "--no-reload")
	_, br := testkit.StalledPost(t, strings.TrimPrefix(s.url, "http://"), "/get/prefix", "")
	answeredAndClosed(t, br)
}
