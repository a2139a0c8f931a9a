//go:build unix

package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	greeterpkg "github.com/wsgo/wsgo/internal/greeter"
)

// marked starts c with a marker in its environment, which every process it
// starts inherits, so that the test can find whatever is left behind.
func marked(t *testing.T, c *exec.Cmd) string {
	t.Helper()
	marker := fmt.Sprintf("WSGO_TEST_MARK=%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	if c.Env == nil {
		c.Env = os.Environ()
	}
	c.Env = append(c.Env, marker)
	return marker
}

// processesWith lists the processes whose environment holds marker.
func processesWith(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, []byte(marker+"\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// nothingLeft fails the test if a process carrying marker is still running
// after a bounded wait, and kills it.
func nothingLeft(t *testing.T, marker string) {
	t.Helper()
	var left []int
	for i := 0; i < 300; i++ {
		if left = processesWith(marker); len(left) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, pid := range left {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Errorf("pid %d outlived wsgo: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// signalOnLine runs c and sends sig the moment its output holds trigger
// (before any later line is read), then returns the exit code and output.
// Before the trigger, act runs once on each line, for steps of its own.
func signalOnLine(t *testing.T, c *exec.Cmd, trigger string, sig syscall.Signal, act func(line string)) (int, string) {
	t.Helper()
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout = nil
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sent := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !sent && strings.Contains(line, trigger) {
			c.Process.Signal(sig)
			sent = true
		} else if !sent && act != nil {
			act(line)
		}
	}
	exited := make(chan struct{})
	go func() { c.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		c.Process.Kill()
		<-exited
		t.Fatalf("wsgo did not exit after %v at %q:\n%s", sig, trigger, out.String())
	}
	if !sent {
		t.Fatalf("wsgo never printed %q:\n%s", trigger, out.String())
	}
	return c.ProcessState.ExitCode(), out.String()
}

// TestInterruptAtAnyMoment sends Ctrl-C at once after each step of
// start-up, many times: wsgo exits 0 every time and leaves nothing running.
func TestInterruptAtAnyMoment(t *testing.T) {
	e2e(t)
	for _, tc := range []struct {
		name, trigger string
		args          []string
	}{
		{"banner without reload", "Running on", []string{"--no-reload"}},
		{"banner", "Running on", nil},
		{"watching", "Reload is on", nil},
		{"first server ready", "Ready in", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 8; i++ {
				c := exec.Command(wsgoBin, append([]string{"serve", "demo", "--port", "0"}, tc.args...)...)
				marker := marked(t, c)
				code, out := signalOnLine(t, c, tc.trigger, syscall.SIGINT, nil)
				if code != 0 {
					t.Fatalf("run %d: exit %d on Ctrl-C after %q, want 0:\n%s", i, code, tc.trigger, out)
				}
				nothingLeft(t, marker)
			}
		})
	}
}

// TestInterruptDuringBuildAndSwap: Ctrl-C while a rebuild runs, and just as
// its server is swapped in.
func TestInterruptDuringBuildAndSwap(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	for _, trigger := range []string{"changed: building", "Built in"} {
		t.Run(trigger, func(t *testing.T) {
			for i := 0; i < 3; i++ {
				c := g.command("serve", "greet", "--port", "0")
				marker := marked(t, c)
				edited := false
				code, out := signalOnLine(t, c, trigger, syscall.SIGINT, func(line string) {
					if !edited && strings.Contains(line, "Ready in") {
						edited = true
						g.write(t, "message.go", messageGo(fmt.Sprintf("%s %d", trigger, i)))
					}
				})
				if code != 0 {
					t.Fatalf("run %d: exit %d on Ctrl-C at %q, want 0:\n%s", i, code, trigger, out)
				}
				nothingLeft(t, marker)
				if left := g.leftovers(t); len(left) > 0 {
					t.Errorf("left in the temporary directory: %v", left)
				}
			}
		})
	}
}

// TestSlowStartSwapDropsNothing: a new build whose init takes its time (here
// until the test lets it go) must not cost a request: the old server goes on
// answering on the shared socket, and is gone once the new one is ready.
// Three rounds, since a server whose accept blocked in the kernel loses
// only the one connection it takes while it closes.
func TestSlowStartSwapDropsNothing(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	fetch := func() error {
		code, _, err := greeterpkg.Fetch(client, s.url+"/")
		if err == nil && code != 200 {
			err = fmt.Errorf("status %d", code)
		}
		return err
	}
	for round := 1; round <= 3; round++ {
		release := filepath.Join(g.dir, fmt.Sprintf("release-%d", round))
		g.write(t, "wait.go", fmt.Sprintf(`package main

import (
	"fmt"
	"os"
	"time"
)

func init() {
	fmt.Fprintln(os.Stderr, "init waiting, round %d")
	for i := 0; i < 6000; i++ {
		if _, err := os.Stat(%q); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
`, round, release))
		s.waitForOutput(t, fmt.Sprintf("init waiting, round %d", round))
		old := s.pids()
		old = old[len(old)-1:]
		// Requests on fresh connections while the new server sits in init.
		for i := 0; i < 20; i++ {
			if err := fetch(); err != nil {
				t.Fatalf("round %d, request %d while the new server starts: %v", round, i, err)
			}
		}
		var failures atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if fetch() != nil {
					failures.Add(1)
				}
				// Paced, as a person reloading a page: a server whose accept
				// blocks in the kernel then waits for the next connection.
				time.Sleep(50 * time.Millisecond)
			}
		}()
		os.WriteFile(release, nil, 0o644)
		waitGone(t, old)
		for i := 0; i < 5; i++ { // and a few once the old server is gone
			if fetch() != nil {
				failures.Add(1)
			}
		}
		close(stop)
		wg.Wait()
		if n := failures.Load(); n > 0 {
			t.Errorf("round %d: %d requests failed across the swap", round, n)
		}
	}
	if out := s.stderr.String(); strings.Contains(out, "cut off") {
		t.Errorf("an old server was cut off instead of drained:\n%s", out)
	}
	if code := s.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("exit %d after the swaps:\n%s", code, s.stderr)
	}
}

// waitGone waits, a bounded time, for the processes to exit, and fails
// the test for (and kills) any that does not.
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		gone := false
		for i := 0; i < 400 && !gone; i++ {
			if gone = !alive(pid); !gone {
				time.Sleep(25 * time.Millisecond)
			}
		}
		if !gone {
			t.Errorf("pid %d is still running", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestStoppedSupervisorDoesNotStallServers: with the supervisor stopped
// (Ctrl-Z), its server goes on answering, although every request writes a
// log line that the supervisor is not there to read.
func TestStoppedSupervisorDoesNotStallServers(t *testing.T) {
	e2e(t)
	s := startServe(t, nil, "serve", "demo", "--port", "0")
	s.waitForOutput(t, "Ready in")
	s.cmd.Process.Signal(syscall.SIGSTOP)
	defer s.cmd.Process.Signal(syscall.SIGCONT)
	client := &http.Client{Timeout: 10 * time.Second}
	// Each request logs a line of about 100 bytes: far more than a pipe holds.
	long := "/" + strings.Repeat("x", 200)
	for i := 0; i < 1500; i++ {
		code, _, err := greeterpkg.Fetch(client, s.url+long)
		if err != nil || code != 200 {
			t.Fatalf("request %d with the supervisor stopped: %d %v", i, code, err)
		}
	}
	s.cmd.Process.Signal(syscall.SIGCONT)
	if code := s.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
}

// TestKilledDuringBuildLeavesNothing: SIGKILL of wsgo while it builds takes
// the build with it, and the next wsgo removes the build directory.
func TestKilledDuringBuildLeavesNothing(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	c := g.command("serve", "greet", "--port", "0")
	marker := marked(t, c)
	edited := false
	signalOnLine(t, c, "changed: building", syscall.SIGKILL, func(line string) {
		if !edited && strings.Contains(line, "Ready in") {
			edited = true
			g.write(t, "message.go", messageGo("killed while building"))
		}
	})
	nothingLeft(t, marker)

	s := g.serve(t)
	if left := g.leftovers(t); len(left) != 1 {
		t.Errorf("after a restart the temporary directory holds %v, want only the new wsgo's", left)
	}
	s.stop(t, syscall.SIGINT)
	if left := g.leftovers(t); len(left) > 0 {
		t.Errorf("left after a clean stop: %v", left)
	}
}

// TestInterruptLeavesNoChildRunning: Ctrl-C just after start-up, while the
// go list that looks for //go:embed files may still run, leaves no process
// behind at the moment wsgo exits: every child is waited for or killed
// first, not left to finish on its own.
func TestInterruptLeavesNoChildRunning(t *testing.T) {
	e2e(t)
	for _, trigger := range []string{"Running on", "Reload is on"} {
		for i := 0; i < 5; i++ {
			c := exec.Command(wsgoBin, "serve", "demo", "--port", "0")
			marker := marked(t, c)
			code, out := signalOnLine(t, c, trigger, syscall.SIGINT, nil)
			if code != 0 {
				t.Fatalf("exit %d on Ctrl-C after %q, want 0:\n%s", code, trigger, out)
			}
			for _, pid := range processesWith(marker) {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				t.Errorf("after %q: pid %d still runs after wsgo exited: %s", trigger, pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}
