//go:build linux

package ci

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const timeout = 30 * time.Second

// hogs is a running .ci/hogs with 2 busy processes.
type hogs struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan int // its exit code
	busy   []int    // pidfds of the busy processes
	stdout string   // the command's first line
}

var started = regexp.MustCompile(`^hogs: 2 busy processes \((\d+) (\d+)\)`)

// startHogs runs .ci/hogs 2 sh -c command and waits for its busy processes
// to start and for the command to print a line.
func startHogs(t *testing.T, command string) *hogs {
	t.Helper()
	h := &hogs{cmd: exec.Command("../../.ci/hogs", "2", "sh", "-c", command), exited: make(chan int, 1)}
	stderr := pipe(t, &h.cmd.Stderr)
	stdout := pipe(t, &h.cmd.Stdout)
	h.stdin, _ = h.cmd.StdinPipe()
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.cmd.Process.Kill() })
	go func() {
		h.cmd.Wait()
		h.exited <- h.cmd.ProcessState.ExitCode()
	}()
	m := started.FindStringSubmatch(receive(t, stderr))
	if m == nil {
		t.Fatal("hogs did not say which busy processes it started")
	}
	for _, pid := range m[1:] {
		n, _ := strconv.Atoi(pid)
		fd, err := unix.PidfdOpen(n, 0)
		if err != nil {
			t.Fatalf("busy process %d: %v", n, err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		h.busy = append(h.busy, fd)
		if state := procState(t, n); state != "R" {
			t.Errorf("busy process %d is in state %s, not running", n, state)
		}
	}
	h.stdout = receive(t, stdout)
	return h
}

// pipe connects *w to a pipe and returns the first line read from it.
func pipe(t *testing.T, w *io.Writer) chan string {
	t.Helper()
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	*w = pw
	t.Cleanup(func() { pw.Close() })
	lines := make(chan string, 1)
	go func() {
		defer r.Close()
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	return lines
}

func receive(t *testing.T, c chan string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(timeout):
		t.Fatal("hogs printed nothing")
		return ""
	}
}

// procState is the one-letter state of process pid.
func procState(t *testing.T, pid int) string {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return fields[0]
}

// wait waits a bounded time for hogs to exit, and returns its exit code.
func (h *hogs) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-h.exited:
		return code
	case <-time.After(timeout):
		t.Fatal("hogs did not exit")
		return 0
	}
}

// busyGone reports whether every busy process has exited within d.
func (h *hogs) busyGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for _, fd := range h.busy {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, int(max(time.Until(deadline), 0).Milliseconds()))
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if n != 1 {
				return false
			}
			break
		}
	}
	return true
}

// TestHogsStopWithCommand: the command runs as in the foreground, with
// hogs's standard input and Ctrl-C not ignored; hogs exits with its status,
// and its busy processes are gone when it has.
func TestHogsStopWithCommand(t *testing.T) {
	h := startHogs(t, "grep SigIgn /proc/self/status; read code; exit $code")
	ignored, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(h.stdout, "SigIgn:")), 16, 64)
	if err != nil {
		t.Fatalf("%q: %v", h.stdout, err)
	}
	if sigint := uint64(1) << (syscall.SIGINT - 1); ignored&sigint != 0 {
		t.Errorf("the command ignores SIGINT (SigIgn %x)", ignored)
	}
	io.WriteString(h.stdin, "3\n")
	h.stdin.Close()
	if code := h.wait(t); code != 3 {
		t.Errorf("exit %d, want the command's 3", code)
	}
	if !h.busyGone(0) {
		t.Error("busy processes outlived hogs")
	}
}

// TestHogsStopOnSignal: interrupted or terminated, hogs stops the command
// and its busy processes before it exits; killed, its busy processes stop
// on their own.
func TestHogsStopOnSignal(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
		{syscall.SIGKILL, -1},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			h := startHogs(t, "echo $$; exec sleep 600")
			pid, _ := strconv.Atoi(h.stdout)
			command, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { // a killed hogs leaves it behind
				unix.PidfdSendSignal(command, unix.SIGKILL, nil, 0)
				unix.Close(command)
			})

			h.cmd.Process.Signal(tt.sig)
			if code := h.wait(t); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			grace := time.Duration(0) // stopped before hogs exited
			if tt.sig == syscall.SIGKILL {
				grace = timeout // they notice that hogs is gone
			}
			if !h.busyGone(grace) {
				t.Error("busy processes outlived hogs")
			}
			if tt.sig != syscall.SIGKILL && unix.PidfdSendSignal(command, 0, nil, 0) == nil {
				t.Error("the command outlived hogs")
			}
		})
	}
}
