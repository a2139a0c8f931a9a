package serve

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// writeServer serves h with a write timeout of d on a loopback port.
func writeServer(t *testing.T, d time.Duration, h http.HandlerFunc) net.Listener {
	_, ln := testServer(t, h, func(s *Server) { s.writeTimeout = d })
	return ln
}

// streamUntilFailure writes blocks and flushes them until a write fails,
// and delivers the error.
func streamUntilFailure(failed chan<- error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		block := make([]byte, 64<<10)
		for {
			_, err := w.Write(block)
			if err == nil {
				err = http.NewResponseController(w).Flush()
			}
			if err != nil {
				failed <- err
				return
			}
		}
	}
}

// TestClientThatStopsReadingLosesItsConnection: a client that asks for a
// stream and then takes nothing costs the handler its write after the
// write timeout, instead of holding it (and a Python thread behind it) for
// as long as the client stays connected.
func TestClientThatStopsReadingLosesItsConnection(t *testing.T) {
	failed := make(chan error, 1)
	ln := writeServer(t, 300*time.Millisecond, streamUntilFailure(failed))
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-failed:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("the handler's write failed with %v, want a deadline exceeded", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler's write to a client that reads nothing never failed")
	}
}

// TestSlowStreamOutlivesTheWriteTimeout: the timeout bounds each wait for
// the client, not the response: a stream that goes on for several times
// the timeout, to a client that reads it, is not cut.
func TestSlowStreamOutlivesTheWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ticks := make(chan struct{})
	ln := writeServer(t, timeout, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		for range ticks {
			if _, err := io.WriteString(w, "tick\n"); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
	})
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	start := time.Now()
	// Each tick goes out only after the client read the last one, and
	// after more than the timeout has passed since the stream began.
	for i := 0; time.Since(start) < 3*timeout || i < 3; i++ {
		if i > 1000 {
			t.Fatal("the stream did not last three timeouts in 1,000 ticks")
		}
		ticks <- struct{}{}
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("tick %d, %s into the stream: %v", i, time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(timeout / 5)
	}
	close(ticks)
}

// TestWriteTimeoutKeepsHandOverTools: the connection the server wraps is
// still one whose pending bytes can be counted (for the drain) and that
// net/http can half-close.
func TestWriteTimeoutKeepsHandOverTools(t *testing.T) {
	server, client := acceptOne(t)
	io.WriteString(client, "GET / HTTP/1.1\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for !pending(server) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !pending(server) && runtime.GOOS == "linux" {
		t.Error("pending does not see the bytes the client sent through the wrapped connection")
	}
	if err := server.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after CloseWrite the client read %v, want EOF", err)
	}
}

// acceptOne returns both ends of a loopback connection, the server's as an
// idleWriteListener accepted it; both are closed when the test ends.
func acceptOne(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := idleWriteListener{Listener: ln, timeout: time.Second}.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	select {
	case server = <-accepted:
	case <-time.After(time.Minute):
		t.Fatal("the listener accepted nothing")
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

// smallSendBuffer is a listener whose connections have a send buffer of
// 64 KiB, as a real network's may be, where loopback's grows to megabytes.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(64 << 10)
	}
	return c, err
}

// TestSlowSteadyReaderIsNotCut: a client that takes the response slowly
// but without pause is not cut by the write timeout, even when the app
// writes its body in one chunk that takes the client many timeouts to
// read: the timeout is for a client that takes nothing.
func TestSlowSteadyReaderIsNotCut(t *testing.T) {
	const timeout = 2 * time.Second
	const size = 1 << 20 // about 6 s at the client's pace: three timeouts
	failed := make(chan error, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, err := w.Write(make([]byte, size))
		failed <- err
	}), io.Discard)
	srv.writeTimeout = timeout
	srv.Go(smallSendBuffer{ln})
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(8 << 10)
	c.SetDeadline(time.Now().Add(time.Minute))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	got, buf := 0, make([]byte, 8<<10)
	for i := 0; i < 10000 && got < size; i++ {
		n, err := c.Read(buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // 8 KiB at a time: about 160 KB a second
	}
	if got < size {
		t.Errorf("the client got %d bytes of %d+ before the connection ended", got, size)
	}
	select {
	case err := <-failed:
		if err != nil {
			t.Errorf("the write to a client that read steadily failed: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the handler's write never returned")
	}
}
