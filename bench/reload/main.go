// Command reload measures wsgo's edit-to-new-response latency against the
// floor, a bare `go build` after the same one-line edit, side by side in one
// run, while background clients count failed requests.
//
//	go run ./bench/reload -n 10
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgo/wsgo/internal/greeter"
)

func main() {
	n := flag.Int("n", 10, "number of edits")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "bench/reload:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "wsgo-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	mod := filepath.Join(work, "greeter")
	if err := os.Mkdir(mod, 0o755); err != nil {
		return err
	}
	if err := greeter.Write(mod, repo, "edit 0"); err != nil {
		return err
	}
	bin := filepath.Join(work, "greeter-bin")
	if err := greeter.Go(mod, "build", "-o", bin, "."); err != nil {
		return err
	}

	srv := exec.Command(bin, "serve", "greet", "--port", "0")
	srv.Dir = mod
	srv.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := srv.StderrPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	url, err := waitForURL(out)
	if err != nil {
		return err
	}

	var stop atomic.Bool
	var total, failed atomic.Int64
	var wg sync.WaitGroup
	for _, fresh := range []bool{false, true} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: fresh}}
			for i := 0; i < 10_000_000 && !stop.Load(); i++ {
				if _, _, err := greeter.Fetch(client, url); err != nil {
					failed.Add(1)
				}
				total.Add(1)
			}
		}()
	}

	var builds, reloads []time.Duration
	for i := 1; i <= n; i++ {
		// The floor: the same one-line edit, then a bare go build.
		floorDir := filepath.Join(work, "floor")
		if i == 1 {
			if err := os.Mkdir(floorDir, 0o755); err != nil {
				return err
			}
			if err := greeter.Write(floorDir, repo, "floor 0"); err != nil {
				return err
			}
			if err := greeter.Go(floorDir, "build", "-o", filepath.Join(work, "floor-bin"), "."); err != nil {
				return err
			}
		}
		os.WriteFile(filepath.Join(floorDir, "message.go"), []byte(greeter.Message(fmt.Sprintf("floor %d", i))), 0o644)
		began := time.Now()
		if err := greeter.Go(floorDir, "build", "-o", filepath.Join(work, "floor-bin"), "."); err != nil {
			return err
		}
		builds = append(builds, time.Since(began))

		// wsgo: save, then poll until the new text is served.
		want := fmt.Sprintf("edit %d", i)
		began = time.Now()
		os.WriteFile(filepath.Join(mod, "message.go"), []byte(greeter.Message(want)), 0o644)
		client := &http.Client{Timeout: 30 * time.Second}
		for time.Since(began) < time.Minute {
			if code, body, err := greeter.Fetch(client, url); err == nil && code == 200 && body == want {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		reloads = append(reloads, time.Since(began))
		fmt.Fprintf(os.Stderr, "edit %2d: go build %v, wsgo save-to-response %v\n", i, builds[i-1].Round(time.Millisecond), reloads[i-1].Round(time.Millisecond))
	}
	stop.Store(true)
	wg.Wait()

	mb, mr := median(builds), median(reloads)
	fmt.Printf("edits: %d\n", n)
	fmt.Printf("go build after a one-line edit: median %v (min %v, max %v)\n", mb.Round(time.Millisecond), slices.Min(builds).Round(time.Millisecond), slices.Max(builds).Round(time.Millisecond))
	fmt.Printf("wsgo save to new response:      median %v (min %v, max %v)\n", mr.Round(time.Millisecond), slices.Min(reloads).Round(time.Millisecond), slices.Max(reloads).Round(time.Millisecond))
	fmt.Printf("wsgo over the floor: median %+v\n", (mr - mb).Round(time.Millisecond))
	fmt.Printf("background requests: %d, failed: %d\n", total.Load(), failed.Load())
	return nil
}

var running = regexp.MustCompile(`Running on (http://\S+)`)

// waitForURL reads wsgo's output until the first server is ready, then
// keeps draining it so that wsgo never blocks on a full pipe.
func waitForURL(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	url := ""
	for sc.Scan() {
		line := sc.Text()
		if m := running.FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		if url != "" && strings.Contains(line, "Ready in") {
			go io.Copy(io.Discard, r)
			return url, nil
		}
	}
	return "", fmt.Errorf("wsgo exited before it was ready")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
