//go:build unix

package cmd

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
)

// flakyApp is an app whose init fails while the file FLAKY_NEEDS names is
// missing: a database that is not up yet.
const flakyApp = `package flaky

import (
	"fmt"
	"iter"
	"os"

	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	if need := os.Getenv("FLAKY_NEEDS"); need != "" {
		if _, err := os.Stat(need); err != nil {
			fmt.Fprintln(os.Stderr, "flaky: the database is not up:", err)
			os.Exit(1)
		}
	}
	wsgi.Register("flaky", wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return wsgi.BodyString("flaky up\n")
	}))
}
`

// supervised is a built program run with -upgrade-on-hup.
type supervised struct {
	path   string // the program on disk
	url    string
	cmd    *exec.Cmd
	log    *syncbuf.Buffer
	exited <-chan struct{}
}

func startSupervised(t *testing.T, program string, env []string, args ...string) *supervised {
	t.Helper()
	port := freePort(t)
	s := &supervised{path: filepath.Join(t.TempDir(), "site"), url: "http://127.0.0.1:" + port + "/", log: &syncbuf.Buffer{}}
	copyProgram(t, program, s.path)
	s.cmd = exec.Command(s.path, append([]string{"-upgrade-on-hup", "-port", port}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.log
	s.exited = startGroup(t, s.cmd, s.log, "log")
	waitForBody(t, s.url, 200, "flaky up")
	return s
}

var readyLine = regexp.MustCompile(`(?i)ready in [^:]*: pid (\d+)`)

// killServer kills the server that became ready last, as the OOM killer
// would, and returns its pid.
func (s *supervised) killServer(t *testing.T) int {
	t.Helper()
	m := readyLine.FindAllStringSubmatch(s.log.String(), -1)
	if m == nil {
		t.Fatalf("no server said it was ready:\n%s", s.log)
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	return pid
}

// answeredWithin2s checks that while nothing can serve, requests are
// answered at once: a 503 with Retry-After, never a wait.
func answeredWithin2s(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 100; i++ {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("while nothing serves, a request was not answered within 2s: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if resp.Header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("while nothing serves, no request got a 503")
}

// TestProductionRestarts: a built program run with -upgrade-on-hup
// restarts a server that was killed outright from the program that last
// served, whatever is on disk then; retries a start that fails with
// backoff, answering 503 meanwhile; serves again once the cause is gone;
// and after -max-restarts failures in a row exits 1 for the service
// manager, saying so at ERROR level.
func TestProductionRestarts(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	m.write(t, "flaky/flaky.go", flakyApp)
	program := filepath.Join(t.TempDir(), "flaky")
	if code, out := m.run(t, "build", "-o", program); code != 0 {
		t.Fatalf("wsgo build: exit %d\n%s", code, out)
	}

	t.Run("broken program on disk", func(t *testing.T) {
		s := startSupervised(t, program, nil)
		data, _ := os.ReadFile(program)
		os.WriteFile(s.path+".new", data[:len(data)/3], 0o755) // a truncated build
		os.Rename(s.path+".new", s.path)
		pid := s.killServer(t)
		waitForBody(t, s.url, 200, "flaky up")
		want := "WARN Server pid " + strconv.Itoa(pid) + " stopped (killed by SIGKILL); restarting the program that last served"
		if !strings.Contains(s.log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, s.log)
		}
		for _, dev := range []string{"rebuild", "Built", "error page", "Ctrl-C"} {
			if strings.Contains(s.log.String(), dev) {
				t.Errorf("the log speaks of %q:\n%s", dev, s.log)
			}
		}
		// An upgrade to the broken program is refused, at ERROR level.
		s.cmd.Process.Signal(syscall.SIGHUP)
		for i := 0; i < 300 && !strings.Contains(s.log.String(), "the running server goes on"); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if !regexp.MustCompile(`ERROR .*the running server goes on`).MatchString(s.log.String()) {
			t.Errorf("the failed upgrade is not an ERROR line:\n%s", s.log)
		}
		waitForBody(t, s.url, 200, "flaky up")
	})

	t.Run("program removed, init fails once", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "db")
		os.WriteFile(db, nil, 0o644)
		s := startSupervised(t, program, []string{"FLAKY_NEEDS=" + db})
		os.Remove(s.path)
		os.Remove(db)
		s.killServer(t)
		answeredWithin2s(t, s.url)
		os.WriteFile(db, nil, 0o644)
		waitForBody(t, s.url, 200, "flaky up")
	})

	t.Run("init fails for a while", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "db")
		os.WriteFile(db, nil, 0o644)
		s := startSupervised(t, program, []string{"FLAKY_NEEDS=" + db})
		os.Remove(db)
		s.killServer(t)
		answeredWithin2s(t, s.url)
		for i := 0; i < 300 && !strings.Contains(s.log.String(), "(restart 2 in a row"); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		answeredWithin2s(t, s.url)
		os.WriteFile(db, nil, 0o644)
		back := time.Now()
		waitForBody(t, s.url, 200, "flaky up")
		t.Logf("serving again %s after the database came back", time.Since(back).Round(10*time.Millisecond))
	})

	t.Run("gives up", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "db")
		os.WriteFile(db, nil, 0o644)
		s := startSupervised(t, program, []string{"FLAKY_NEEDS=" + db}, "-max-restarts", "2", "-log-format", "json")
		os.Remove(db)
		s.killServer(t)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			t.Fatalf("still running after 2 failed restarts:\n%s", s.log)
		}
		if code := s.cmd.ProcessState.ExitCode(); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !regexp.MustCompile(`"level":"ERROR","msg":"no server stayed up: .*after 2 restarts in a row \(-max-restarts 2\)`).MatchString(s.log.String()) {
			t.Errorf("giving up is not an ERROR record:\n%s", s.log)
		}
		if !strings.Contains(s.log.String(), `"level":"WARN","msg":"Server pid`) {
			t.Errorf("the crash is not a WARN record:\n%s", s.log)
		}
	})
}
