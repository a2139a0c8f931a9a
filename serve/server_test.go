package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestHandoverMovesKeepAliveClients: a client idle on a keep-alive
// connection when the hand-over starts gets its next answer, marked
// Connection: close, instead of a connection closed under its request.
func TestHandoverMovesKeepAliveClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), io.Discard)
	var drained atomic.Bool // Shutdown runs its hooks on goroutines of their own
	srv.OnDrain(func() { drained.Store(true) })
	srv.Go(ln)

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	get := func() *http.Response {
		fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request on the kept-alive connection: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		return resp
	}
	if resp := get(); resp.Close {
		t.Fatal("closed before the hand-over")
	}

	done := make(chan error, 1)
	go func() { done <- srv.Handover(context.Background(), ln, 5*time.Second) }()
	for i := 0; i < 500 && !srv.closing.Load(); i++ {
		time.Sleep(2 * time.Millisecond)
	}
	if resp := get(); !resp.Close {
		t.Error("the response during the hand-over did not carry Connection: close")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Handover: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Handover did not return once its client had moved on")
	}
	if !drained.Load() {
		t.Error("OnDrain hooks did not run")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting after the hand-over")
	}
}

// TestStopDoesNotWaitForSpareConnections: a connection that never sent a
// request (HTTP clients open spares) must not hold the stop; Shutdown alone
// would wait five seconds for it, past this test's three.
func TestStopDoesNotWaitForSpareConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), io.Discard)
	srv.Go(ln)
	spare, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	for i := 0; i < 500 && srv.openConns() == 0; i++ {
		time.Sleep(2 * time.Millisecond) // until the server has accepted it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Stop(ctx, ln); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// TestRequestWaiting: a connection with no request begun counts as one
// on its way when its request is in the kernel's buffer, and as a spare
// connection otherwise; the drain waits for the former only.
func TestRequestWaiting(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux tells what a connection holds")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	held, err := ln.Accept() // accepted, and never read by any server
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	srv := NewServer(http.NotFoundHandler(), io.Discard)
	srv.track(held, http.StateNew)
	if srv.requestWaiting() {
		t.Error("a spare connection counts as a request on its way")
	}
	io.WriteString(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for i := 0; i < 2000 && !pending(held); i++ {
		time.Sleep(5 * time.Millisecond) // until the kernel has the bytes
	}
	if !srv.requestWaiting() {
		t.Error("a connection holding a request does not count")
	}
	srv.track(held, http.StateActive)
	if srv.requestWaiting() {
		t.Error("a request being served still counts as waiting")
	}
}

// TestTrackKeepAliveTakesNoLock: under keep-alive load every request
// changes its connection's state twice; once no connection is new, those
// changes take no lock that the server's connections share.
func TestTrackKeepAliveTakesNoLock(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), io.Discard)
	c, peer := net.Pipe()
	defer c.Close()
	defer peer.Close()
	srv.track(c, http.StateNew)
	srv.track(c, http.StateActive)
	srv.mu.Lock()
	done := make(chan struct{})
	go func() {
		srv.track(c, http.StateIdle)
		srv.track(c, http.StateActive)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("a keep-alive request waited for the server's lock")
	}
	srv.mu.Unlock()
	<-done
	if n := srv.openConns(); n != 1 {
		t.Errorf("%d open connections, want 1", n)
	}
	srv.track(c, http.StateClosed)
	if n := srv.openConns(); n != 0 || srv.requestWaiting() {
		t.Errorf("%d open connections after the close, want 0", n)
	}
}
