package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/testkit"
)

// bodyServer serves h with a read timeout of d on a loopback port, and
// returns the server and its address.
func bodyServer(t *testing.T, d time.Duration, h http.HandlerFunc) (*Server, net.Listener) {
	return testServer(t, h, func(s *Server) { s.readTimeout = d })
}

// testServer serves h on a loopback port, set as set says.
func testServer(t *testing.T, h http.HandlerFunc, set func(*Server)) (*Server, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, io.Discard)
	set(srv)
	srv.Go(ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln
}

// TestStalledBodyLosesItsConnection: an app waiting for a body that no
// longer comes gets an error that says so, and the client its connection
// closed, instead of both waiting for ever.
func TestStalledBodyLosesItsConnection(t *testing.T) {
	read := make(chan error, 1)
	_, ln := bodyServer(t, 200*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		read <- err
		panic(http.ErrAbortHandler)
	})
	_, br := testkit.StalledPost(t, ln.Addr().String(), "/", "abc")
	select {
	case err := <-read:
		var se *StalledError
		if !errors.As(err, &se) || se.Timeout != 200*time.Millisecond {
			t.Errorf("the app's read failed with %v, want a StalledError of 200ms", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the app's read of a stalled body never ended")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("client read %v, want the connection closed", err)
	}
}

// TestUnreadBodyDoesNotHoldTheResponse: an app that answers without
// reading the body gets its answer out, although net/http reads what is
// left of the body first and the client sends none of it.
func TestUnreadBodyDoesNotHoldTheResponse(t *testing.T) {
	_, ln := bodyServer(t, 200*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	_, br := testkit.StalledPost(t, ln.Addr().String(), "/", "abc")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "ok" || !resp.Close {
		t.Errorf("got %d %q (close %t), want 200 \"ok\" and the connection closed", resp.StatusCode, body, resp.Close)
	}
}

// TestStalledBodyDoesNotHoldTheDrain: a drain waits for a request whose
// client stopped sending its body only as long as the read timeout.
func TestStalledBodyDoesNotHoldTheDrain(t *testing.T) {
	reading := make(chan struct{})
	srv, ln := bodyServer(t, 200*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		close(reading)
		io.ReadAll(r.Body)
	})
	testkit.StalledPost(t, ln.Addr().String(), "/", "abc")
	select {
	case <-reading:
	case <-time.After(15 * time.Second):
		t.Fatal("the request never reached the handler")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Stop(ctx, ln); err != nil {
		t.Errorf("Stop: %v; the stalled client held the drain", err)
	}
}

// TestReadTimeoutSparesLongRequests: the bound is on the client's silence
// while a body is due, not on the request: once the body has ended, read
// by the app or by net/http, a request may take longer than the bound
// without its context being cancelled.
func TestReadTimeoutSparesLongRequests(t *testing.T) {
	const d = 100 * time.Millisecond
	for name, use := range map[string]func(w http.ResponseWriter, r *http.Request){
		"read":             func(w http.ResponseWriter, r *http.Request) { io.ReadAll(r.Body) },
		"read past end":    func(w http.ResponseWriter, r *http.Request) { io.ReadAll(r.Body); r.Body.Read(make([]byte, 1)) },
		"left to net/http": func(w http.ResponseWriter, r *http.Request) { http.NewResponseController(w).Flush() },
		"read after net/http": func(w http.ResponseWriter, r *http.Request) {
			http.NewResponseController(w).Flush()
			r.Body.Read(make([]byte, 1))
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, ln := bodyServer(t, d, func(w http.ResponseWriter, r *http.Request) {
				use(w, r)
				select {
				case <-r.Context().Done():
					io.WriteString(w, "cancelled")
				case <-time.After(5 * d):
					io.WriteString(w, "ok")
				}
			})
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			fmt.Fprint(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if string(body) != "ok" {
				t.Errorf("the request was cancelled once the read timeout had passed")
			}
		})
	}
}

// TestTrickledBodyIsCut: a client that sends a byte just often enough never
// to stall a read loses its connection once the reads have waited the read
// timeout and the body came slower than MinBodyRate meanwhile; bytes sent
// fast before the trickle buy it no more than one more stretch.
func TestTrickledBodyIsCut(t *testing.T) {
	const timeout = time.Second
	for _, tt := range []struct {
		name  string
		first int           // bytes sent at once before the trickle
		every time.Duration // a byte each
	}{
		{"from the start", 0, timeout / 20},
		{"after 100 KB at once", 100 << 10, timeout / 20},
		{"after 100 KB, a byte well within each timeout", 100 << 10, timeout * 7 / 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			trickledBodyIsCut(t, timeout, tt.first, tt.every)
		})
	}
}

func trickledBodyIsCut(t *testing.T, timeout time.Duration, first int, every time.Duration) {
	read := make(chan error, 1)
	var trickled int // bytes of the trickle the app read before the cut
	_, ln := bodyServer(t, timeout, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		trickled = len(b) - first
		read <- err
	})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", first+100000, strings.Repeat("f", first))
	go func() {
		// The rest of the body, a byte at a time, for at most 2,000.
		for range 2000 {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(every)
		}
	}()
	select {
	case err := <-read:
		var slow *SlowBodyError
		if !errors.As(err, &slow) || slow.Waited < timeout || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the app's read of a trickled body ended with %v, want a SlowBodyError after %s of waiting", err, timeout)
		}
		// A byte each 0.7 timeout: the second one's read ends the first
		// timeout of waiting, and with it the body; a stretch that counted
		// the bytes sent at once would let two more come.
		if every > timeout/2 && trickled > 3 {
			t.Errorf("the body was cut after %d bytes of the trickle: the %d sent at once bought it time", trickled, first)
		}
	case <-time.After(time.Minute):
		t.Fatal("the app's read of a trickled body was not cut within a minute")
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("the client's connection was not closed: %v", err)
	}
}

// TestSlowAppIsNotASlowBody: only the time a read waits for the client
// counts against its rate; an app that takes its time between reads of a
// body that came at once is not cut.
func TestSlowAppIsNotASlowBody(t *testing.T) {
	const timeout = 100 * time.Millisecond
	read := make(chan error, 1)
	_, ln := bodyServer(t, timeout, func(w http.ResponseWriter, r *http.Request) {
		p := make([]byte, 10)
		var err error
		for err == nil {
			_, err = r.Body.Read(p)
			time.Sleep(timeout / 4)
		}
		if err == io.EOF {
			err = nil
		}
		read <- err
	})
	resp, err := http.Post("http://"+ln.Addr().String()+"/", "text/plain", strings.NewReader(strings.Repeat("x", 200)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-read; err != nil {
		t.Errorf("an app reading a body that came at once, slowly, failed: %v", err)
	}
}
