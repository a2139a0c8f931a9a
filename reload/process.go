//go:build unix

package reload

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgo/wsgo/reload/control"
)

// proc is one server process: a built app, or the error-page server.
type proc struct {
	cmd    *exec.Cmd
	ctl    *control.Conn
	conn   net.Conn
	ready  chan struct{} // closed when the server says it serves
	once   sync.Once
	exited chan struct{} // closed when it has exited; err is then set
	err    error
	output *tail // the end of what it wrote before it was ready

	mu       sync.Mutex
	draining bool
	refused  string   // why it would not serve: another protocol
	cutOff   []string // requests it cut short when it stopped
}

// procSpec is what every server process of a supervisor shares.
type procSpec struct {
	socket *os.File  // the listening socket, non-blocking, never blocking
	output *os.File  // where a ready server writes: the supervisor's stderr
	stderr io.Writer // where output goes before ready
	color  bool
}

// startProc starts prog, handing it the listening socket as fd 3 and its
// line to the supervisor as fd 4. It runs in its own process group, so that
// signals reach what it starts too, and dies with the supervisor.
func startProc(prog *Program, spec procSpec, buildID, problem string) (*proc, error) {
	if len(prog.Argv) == 0 {
		return nil, errors.New("reload: start: a program with no command")
	}
	parent, child, err := socketPair()
	if err != nil {
		return nil, fmt.Errorf("reload: start: %w", err)
	}
	defer child.Close()
	conn, err := net.FileConn(parent)
	parent.Close()
	if err != nil {
		return nil, fmt.Errorf("reload: start: %w", err)
	}
	p := &proc{conn: conn, ctl: control.NewConn(conn), ready: make(chan struct{}), exited: make(chan struct{}), output: newTail(64 << 10)}
	cmd := exec.Command(prog.Argv[0], prog.Argv[1:]...)
	cmd.Env = append(cleanEnv(), prog.Env...)
	cmd.Env = append(cmd.Env, "LISTEN_FDS=1", "LISTEN_FDNAMES=http",
		control.EnvControlFD+"="+strconv.Itoa(control.ControlFD), control.EnvProtocol+"="+strconv.Itoa(control.Protocol))
	cmd.ExtraFiles = []*os.File{spec.socket, child} // ListenFD, ControlFD
	if spec.output != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, spec.output)
		cmd.Env = append(cmd.Env, control.EnvOutputFD+"="+strconv.Itoa(control.OutputFD))
	}
	w := io.MultiWriter(spec.stderr, p.output)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = time.Second // output held open by what it started
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("reload: start %s: %w", prog.Argv[0], err)
	}
	p.cmd = cmd
	read := make(chan struct{})
	go func() {
		defer close(read)
		p.read()
	}()
	go func() {
		p.err = cmd.Wait()
		// What it said before it died counts: its hello may say why.
		select {
		case <-read:
		case <-time.After(time.Second): // a descendant holds the line open
		}
		conn.Close()
		close(p.exited)
	}()
	p.ctl.Hello(control.Hello{BuildID: buildID, Color: spec.color, Problem: problem})
	return p, nil
}

// socketPair returns the two ends of a Unix stream socket, both closed on
// exec (the child's end is passed explicitly).
func socketPair() (parent, child *os.File, err error) {
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control"), nil
}

// cleanEnv is this process's environment without what marks a server of
// another supervisor or a socket meant for this process.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case control.EnvControlFD, control.EnvProtocol, control.EnvOutputFD, "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// read follows what the server says.
func (p *proc) read() {
	for {
		ev, err := p.ctl.Next()
		if err != nil {
			return
		}
		switch ev.Kind {
		case control.Ready:
			p.once.Do(func() { close(p.ready) })
		case control.Refused:
			p.mu.Lock()
			p.refused = ev.Refusal
			p.mu.Unlock()
		case control.Stopped:
			p.mu.Lock()
			p.cutOff = ev.CutOff
			p.mu.Unlock()
		}
	}
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

// drain asks the server to finish what it is doing and exit, by msg (or
// SIGTERM if it cannot be told), and kills its process group if it has not
// exited by the time the server's own grace should have run out. It returns
// once the server has exited, and whether it had to be killed.
func (p *proc) drain(msg control.Message, grace time.Duration) (killed bool) {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	if p.ctl.Send(msg) != nil {
		syscall.Kill(p.pid(), syscall.SIGTERM)
	}
	select {
	case <-p.exited:
	case <-time.After(grace + 2*time.Second): // the server enforces grace itself
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

// cutShort returns the requests the server said it cut off when it stopped.
func (p *proc) cutShort() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cutOff
}

func (p *proc) refusal() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// exitReason says how a process ended, for a person.
func (p *proc) exitReason() string {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + unix.SignalName(ws.Signal())
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
