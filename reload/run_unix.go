//go:build unix

package reload

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// result is the outcome of one build-and-start.
type result struct {
	proc    *proc         // ready server, nil on failure
	failure string        // compiler output or crash, for the error page
	title   string        // one line: "build failed", "server exited before it was ready"
	built   time.Duration // time in go build
	ready   time.Duration // time from start to ready
}

// Run supervises until ctx is cancelled or SIGINT/SIGTERM arrives, then
// drains the server and returns nil. A second signal stops it at once, and
// Run returns an error saying that requests were cut off.
func (s *Supervisor) Run(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	defer s.socket.Close()
	defer s.watcher.Close()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	keys := make(chan struct{}, 1)
	if s.Keys != nil {
		go readKeys(s.Keys, keys)
	}
	exits := make(chan *proc, 4)
	results := make(chan result)
	done := make(chan struct{})
	defer close(done)
	// send delivers a build's result, or, once Run has returned, stops the
	// server it started so that none outlives the supervisor.
	send := func(r result) {
		select {
		case results <- r:
		case <-done:
			if r.proc != nil {
				r.proc.kill()
			}
		}
	}

	s.embeds()
	var current *proc
	swap := func(next *proc) {
		old := current
		current = next
		go func() { <-next.exited; exits <- next }()
		if old != nil {
			go old.drain(HandoverSignal, s.Grace)
		}
	}

	// The first server is this very binary: it was just built.
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	buildCtx, cancelBuild := context.WithCancel(ctx)
	defer func() { cancelBuild() }()
	go func() { send(s.start(buildCtx, self, 0, false)) }()
	// rebuild cancels the build under way, if any, and starts another.
	rebuild := func() {
		cancelBuild()
		buildCtx, cancelBuild = context.WithCancel(ctx)
		go func(ctx context.Context) { send(s.build(ctx)) }(buildCtx)
	}

	for {
		select {
		case c := <-s.watcher.Changes:
			paths := c.Paths
			if c.Rescan {
				paths = append([]string{"(events were lost: rescanned)"}, paths...)
			}
			s.Log.Printf(" * %s changed: building", summarize(paths))
			rebuild()

		case <-keys:
			s.Log.Printf(" * Rebuilding, as asked")
			rebuild()

		case r := <-results:
			if r.proc != nil {
				s.Log.Successf(" * %s pid %d", readyLine(r), r.proc.pid())
				swap(r.proc)
				continue
			}
			if r.title == "" {
				continue // cancelled by a newer change
			}
			s.Log.Errorf(" * %s; the error page is served until the next good build:\n%s", r.title, indent(r.failure))
			if p := s.errorPage(ctx, r.title+"\n\n"+r.failure); p != nil {
				swap(p)
			}

		case p := <-exits:
			if p != current || p.isDraining() {
				continue
			}
			s.Log.Errorf(" * Server pid %d stopped (%s); rebuilding to restart it", p.pid(), p.exitReason())
			current = nil
			rebuild()

		case err := <-s.watcher.Errors:
			s.Log.Errorf(" * %v", err)

		case <-ctx.Done():
			cancelBuild()
			return s.stop(current, sigs)
		case <-sigs:
			cancelBuild()
			return s.stop(current, sigs)
		}
	}
}

func (s *Supervisor) init() error {
	if s.Log == nil {
		return errors.New("reload: Supervisor needs a Log")
	}
	if s.Stderr == nil {
		s.Stderr = os.Stderr
	}
	if s.Grace <= 0 {
		s.Grace = 5 * time.Second
	}
	if s.ErrorPage == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		s.ErrorPage = exe
	}
	f, err := s.Listener.File()
	if err != nil {
		return fmt.Errorf("reload: socket: %w", err)
	}
	s.socket = f
	w, err := Watch(s.Source.Root, s.Watch)
	if err != nil {
		f.Close()
		return err
	}
	s.watcher = w
	dirs, files := w.Stats()
	how := ".gitignore applied through git"
	if !w.GitIgnore() {
		how = "not a git work tree: .gitignore not applied"
	}
	s.Log.Printf(" * Watching %s: %d directories, %d files the build reads (%s)", s.Source.Root, dirs, files, how)
	s.Log.Printf(" * Reload is on: a save rebuilds %s; press Enter to rebuild now", filepath.Join(s.Source.Module, s.Source.Package))
	return nil
}

// build compiles the program into a temporary file and starts it.
func (s *Supervisor) build(ctx context.Context) result {
	n := s.builds.Add(1)
	out := filepath.Join(os.TempDir(), fmt.Sprintf("wsgo-build-%d-%d", os.Getpid(), n))
	defer os.Remove(out) // the running server keeps its own copy open
	began := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, s.Source.Package)
	cmd.Dir = s.Source.Root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	output, err := cmd.CombinedOutput()
	built := time.Since(began)
	if ctx.Err() != nil {
		return result{}
	}
	if err != nil {
		return result{title: fmt.Sprintf("Build failed in %s (go build %s)", round(built), s.Source.Package),
			failure: strings.TrimSpace(string(output)), built: built}
	}
	go s.embeds()
	return s.start(ctx, out, built, true)
}

// start runs exe and waits until it is ready, exits, or ctx is cancelled.
func (s *Supervisor) start(ctx context.Context, exe string, built time.Duration, fresh bool) result {
	began := time.Now()
	p, err := startProc(exe, s.Args, s.Env, s.socket, s.Stderr)
	if fresh {
		os.Remove(exe)
	}
	if err != nil {
		return result{title: "Server could not start", failure: err.Error(), built: built}
	}
	select {
	case <-p.ready:
		return result{proc: p, built: built, ready: time.Since(began)}
	case <-p.exited:
		return result{title: fmt.Sprintf("Server exited before it was ready (%s)", p.exitReason()),
			failure: strings.TrimSpace(p.output.String()), built: built}
	case <-ctx.Done():
		p.kill()
		return result{}
	}
}

// errorPage starts the error-page server showing failure.
func (s *Supervisor) errorPage(ctx context.Context, failure string) *proc {
	const max = 64 << 10 // environment strings are limited to 128 KiB on Linux
	if len(failure) > max {
		failure = "…" + failure[len(failure)-max:]
	}
	p, err := startProc(s.ErrorPage, s.Args, append(s.Env, EnvBuildError+"="+failure), s.socket, s.Stderr)
	if err != nil {
		s.Log.Errorf(" * The error page could not start either: %v", err)
		return nil
	}
	select {
	case <-p.ready:
		return p
	case <-p.exited:
		s.Log.Errorf(" * The error page exited (%s): %s", p.exitReason(), p.output)
	case <-ctx.Done():
		p.kill()
	}
	return nil
}

// stop drains the current server; a second signal kills it at once.
// It fails when requests in flight were cut short.
func (s *Supervisor) stop(current *proc, sigs <-chan os.Signal) error {
	if current == nil {
		return nil
	}
	s.Log.Printf(" * Stopping: letting requests in flight finish (Ctrl-C again to stop now)")
	done := make(chan bool, 1)
	go func() { done <- current.drain(syscall.SIGTERM, s.Grace) }()
	select {
	case killed := <-done:
		if killed {
			return fmt.Errorf("stopped the server after --grace %s, before its requests finished", s.Grace)
		}
		return nil
	case <-sigs:
		current.kill()
		return errors.New("stopped at once, as asked; requests in flight were cut off")
	}
}

// embeds tells the watcher which files //go:embed pulls into the build.
func (s *Supervisor) embeds() {
	cmd := exec.Command("go", "list", "-e", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		s.Source.Package)
	cmd.Dir = s.Source.Root
	out, err := cmd.Output()
	if err != nil {
		return // the build reports what is wrong
	}
	s.watcher.SetEmbeds(strings.Fields(string(out)))
}

func readKeys(r io.Reader, keys chan<- struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line == "" || line == "r" {
			select {
			case keys <- struct{}{}:
			default:
			}
		}
	}
}

// summarize names the first changed path and counts the rest.
func summarize(paths []string) string {
	switch len(paths) {
	case 0:
		return "Nothing"
	case 1:
		return paths[0]
	}
	return fmt.Sprintf("%s and +%d more", paths[0], len(paths)-1)
}

func readyLine(r result) string {
	if r.built == 0 {
		return fmt.Sprintf("Ready in %s:", round(r.ready))
	}
	return fmt.Sprintf("Built in %s, ready in %s:", round(r.built), round(r.ready))
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(s, "\n", "\n   ")
}
