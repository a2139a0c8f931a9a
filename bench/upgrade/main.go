//go:build unix

// Command upgrade measures a production upgrade: a program whose main is
// serve.Main (what wsgo build writes) runs with -upgrade-on-hup while
// clients send requests without pause, and is upgraded n times (the other
// build put in place by a rename, then SIGHUP). It reports the requests
// sent, the failed ones (there must be none), and the latency of requests
// sent during a swap against those of the steady state before it.
//
//	go run ./bench/upgrade -n 20
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsgo/wsgo/internal/greeter"
)

func main() {
	n := flag.Int("n", 20, "number of upgrades")
	clients := flag.Int("c", 4, "clients with a keep-alive connection (one more dials anew each time)")
	steady := flag.Duration("steady", 3*time.Second, "how long to measure the steady state first")
	flag.Parse()
	if err := run(*n, *clients, *steady); err != nil {
		fmt.Fprintln(os.Stderr, "bench/upgrade:", err)
		os.Exit(1)
	}
}

// A sample is one request: when it was sent, how long it took, and
// whether it failed.
type sample struct {
	at     time.Time
	took   time.Duration
	failed bool
}

func run(n, clients int, steady time.Duration) error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "wsgo-bench-upgrade-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	builds, err := buildTwo(work, repo)
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	site := filepath.Join(work, "site")
	if err := place(builds[0], site); err != nil {
		return err
	}
	srv := exec.Command(site, "-upgrade-on-hup", "-port", port, "-log-format", "json")
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { syscall.Kill(-srv.Process.Pid, syscall.SIGKILL); srv.Wait() }()
	url := "http://127.0.0.1:" + port + "/"
	if err := waitFor(url, "build 1", 30*time.Second); err != nil {
		return err
	}

	var (
		stop    atomic.Bool
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
	)
	for i := 0; i <= clients; i++ {
		wg.Add(1)
		go func(fresh bool) {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: fresh}}
			var mine []sample
			for j := 0; j < 100_000_000 && !stop.Load(); j++ {
				began := time.Now()
				code, _, err := greeter.Fetch(client, url)
				mine = append(mine, sample{began, time.Since(began), err != nil || code != 200})
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		}(i == clients)
	}

	time.Sleep(steady)
	steadyEnd := time.Now()
	type window struct{ from, to time.Time }
	var swaps []window
	var upgrades []time.Duration
	for i := 1; i <= n; i++ {
		next := builds[i%2]
		want := fmt.Sprintf("build %d", i%2+1)
		if err := place(next, site); err != nil {
			return err
		}
		began := time.Now()
		srv.Process.Signal(syscall.SIGHUP)
		if err := waitFor(url, want, 30*time.Second); err != nil {
			return fmt.Errorf("upgrade %d: %w", i, err)
		}
		upgrades = append(upgrades, time.Since(began))
		// The old server drains after the new one serves: the swap lasts
		// until the drain has had time to end.
		time.Sleep(time.Second)
		swaps = append(swaps, window{began, time.Now()})
	}
	stop.Store(true)
	wg.Wait()

	var calm, swapping []time.Duration
	failed := 0
	for _, s := range samples {
		if s.failed {
			failed++
		}
		switch {
		case s.at.Before(steadyEnd):
			calm = append(calm, s.took)
		case slices.ContainsFunc(swaps, func(w window) bool { return !s.at.Before(w.from) && s.at.Before(w.to) }):
			swapping = append(swapping, s.took)
		}
	}
	fmt.Printf("%d upgrades, %d clients (%d keep-alive, 1 new connection a request)\n", n, clients+1, clients)
	fmt.Printf("requests: %d, failed: %d\n", len(samples), failed)
	fmt.Printf("SIGHUP to new bytes served: median %s, max %s\n", median(upgrades).Round(100*time.Microsecond), slices.Max(upgrades).Round(100*time.Microsecond))
	fmt.Printf("steady state (%s): %s\n", steady, quantiles(calm))
	fmt.Printf("during swaps (SIGHUP to 1s after new bytes): %s\n", quantiles(swapping))
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

// buildTwo builds the program twice, answering "build 1" and "build 2".
func buildTwo(work, repo string) ([2]string, error) {
	var out [2]string
	mod := filepath.Join(work, "mod")
	if err := os.Mkdir(mod, 0o755); err != nil {
		return out, err
	}
	if err := greeter.Write(mod, repo, "build 1"); err != nil {
		return out, err
	}
	// The greeter's app, served by serve.Main as a built program is.
	src, err := os.ReadFile(filepath.Join(mod, "main.go"))
	if err != nil {
		return out, err
	}
	main := strings.NewReplacer(`"github.com/wsgo/wsgo/cmd"`, `"github.com/wsgo/wsgo/serve"`, "cmd.Execute()", "serve.Main()").Replace(string(src))
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(main), 0o644); err != nil {
		return out, err
	}
	for i := range out {
		msg := fmt.Sprintf("build %d", i+1)
		if err := os.WriteFile(filepath.Join(mod, "message.go"), []byte(greeter.Message(msg)), 0o644); err != nil {
			return out, err
		}
		out[i] = filepath.Join(work, fmt.Sprintf("build-%d", i+1))
		if err := greeter.Go(mod, "build", "-trimpath", "-o", out[i], "."); err != nil {
			return out, err
		}
	}
	return out, nil
}

// place puts a copy of program at path by a rename, as a deploy does.
func place(program, path string) error {
	data, err := os.ReadFile(program)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".new", data, 0o755); err != nil {
		return err
	}
	return os.Rename(path+".new", path)
}

func waitFor(url, want string, limit time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for began := time.Now(); time.Since(began) < limit; time.Sleep(5 * time.Millisecond) {
		if code, body, err := greeter.Fetch(client, url); err == nil && code == 200 && body == want {
			return nil
		}
	}
	return errors.New(url + " never answered " + want)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port), nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func quantiles(d []time.Duration) string {
	if len(d) == 0 {
		return "no requests"
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond) }
	return fmt.Sprintf("%d requests, p50 %s, p99 %s, max %s", len(d), q(0.50), q(0.99), d[len(d)-1].Round(time.Microsecond))
}
