//go:build unix

package reload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// proc is one server process: a built app, or the error-page server.
type proc struct {
	cmd    *exec.Cmd
	ready  chan struct{} // closed when the server says it serves
	exited chan struct{} // closed when it has exited; err is then set
	err    error
	output *tail // the end of what it wrote to standard error

	mu       sync.Mutex
	draining bool
}

// startProc starts exe with args, handing it the listening socket as fd 3
// and a pipe to say it is ready on as fd 4. It runs in its own process group,
// so that signals reach what it starts too, and dies with the supervisor.
func startProc(exe string, args, env []string, socket *os.File, stderr io.Writer) (*proc, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("reload: start: %w", err)
	}
	p := &proc{ready: make(chan struct{}), exited: make(chan struct{}), output: newTail(64 << 10)}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env,
		"LISTEN_FDS=1", "LISTEN_FDNAMES=http",
		EnvSupervised+"=1", EnvReadyFD+"=4",
		EnvBuildID+"="+strconv.FormatInt(time.Now().UnixNano(), 36),
	)
	cmd.ExtraFiles = []*os.File{socket, readyW}
	cmd.Stdout = stderr
	cmd.Stderr = io.MultiWriter(stderr, p.output)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		readyR.Close()
		readyW.Close()
		return nil, fmt.Errorf("reload: start %s: %w", exe, err)
	}
	readyW.Close()
	p.cmd = cmd
	go func() {
		defer readyR.Close()
		if line, err := bufio.NewReader(readyR).ReadString('\n'); err == nil && line == "ready\n" {
			close(p.ready)
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) {
	syscall.Kill(-p.pid(), sig)
}

func (p *proc) isDraining() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.draining
}

// drain asks the server, with sig, to finish what it is doing and exit, and
// kills its process group if it has not within grace. It returns once the
// server has exited, and whether it had to be killed.
func (p *proc) drain(sig syscall.Signal, grace time.Duration) (killed bool) {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	syscall.Kill(p.pid(), sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.signal(syscall.SIGKILL)
		<-p.exited
		killed = true
	}
	// Whatever it started and left behind goes with it.
	p.signal(syscall.SIGKILL)
	return killed
}

// kill stops the process group at once and waits for the process.
func (p *proc) kill() {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// exitReason says how a process ended, for a person.
func (p *proc) exitReason() string {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	if p.err != nil {
		return p.err.Error()
	}
	return "exit status 0"
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
