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
	work, mod, err := greeter.Bench("edit 0")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := addLib(mod); err != nil {
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
	unchanged := make(chan struct{}, 16)
	url, err := waitForURL(out, unchanged)
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
			repo, err := os.Getwd()
			if err != nil {
				return err
			}
			if err := greeter.Write(floorDir, repo, "floor 0"); err != nil {
				return err
			}
			if err := addLib(floorDir); err != nil {
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
	// Saves that change no code: a comment at the end of a package other
	// than main (an edit of main always relinks). The floor is the same edit
	// and the same bare go build, which skips the link too.
	var floorSame, same []time.Duration
	for i := 1; i <= n; i++ {
		comment := fmt.Sprintf("\n// comment %d\n", i)
		floorDir := filepath.Join(work, "floor")
		appendFile(filepath.Join(floorDir, "lib", "lib.go"), comment)
		began := time.Now()
		if err := greeter.Go(floorDir, "build", "-o", filepath.Join(work, "floor-bin"), "."); err != nil {
			return err
		}
		floorSame = append(floorSame, time.Since(began))
		began = time.Now()
		appendFile(filepath.Join(mod, "lib", "lib.go"), comment)
		select {
		case <-unchanged:
		case <-time.After(time.Minute):
			return fmt.Errorf("comment edit %d: wsgo never said there was no change", i)
		}
		same = append(same, time.Since(began))
		fmt.Fprintf(os.Stderr, "comment %2d: go build %v, wsgo save-to-\"no change\" %v\n", i, floorSame[i-1].Round(time.Millisecond), same[i-1].Round(time.Millisecond))
	}
	stop.Store(true)
	wg.Wait()

	mb, mr := median(builds), median(reloads)
	fmt.Printf("edits: %d\n", n)
	fmt.Printf("go build after a one-line edit: median %v (min %v, max %v)\n", mb.Round(time.Millisecond), slices.Min(builds).Round(time.Millisecond), slices.Max(builds).Round(time.Millisecond))
	fmt.Printf("wsgo save to new response:      median %v (min %v, max %v)\n", mr.Round(time.Millisecond), slices.Min(reloads).Round(time.Millisecond), slices.Max(reloads).Round(time.Millisecond))
	fmt.Printf("wsgo over the floor: median %+v, ratio %.2f\n", (mr - mb).Round(time.Millisecond), float64(mr)/float64(mb))
	fmt.Printf("comment-only edit, go build:        median %v\n", median(floorSame).Round(time.Millisecond))
	fmt.Printf("comment-only edit, wsgo \"no change\": median %v\n", median(same).Round(time.Millisecond))
	fmt.Printf("background requests: %d, failed: %d\n", total.Load(), failed.Load())
	return nil
}

var running = regexp.MustCompile(`Running on (http://\S+)`)

// waitForURL reads wsgo's output until the first server is ready, then
// keeps reading it, so that wsgo never blocks on a full pipe, and signals
// unchanged at each "No change to the program".
func waitForURL(r io.Reader, unchanged chan<- struct{}) (string, error) {
	sc := bufio.NewScanner(r)
	url := ""
	for sc.Scan() {
		line := sc.Text()
		if m := running.FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		if url != "" && strings.Contains(line, "Ready in") {
			go func() {
				for sc.Scan() {
					if strings.Contains(sc.Text(), "No change to the program") {
						unchanged <- struct{}{}
					}
				}
			}()
			return url, nil
		}
	}
	return "", fmt.Errorf("wsgo exited before it was ready")
}

func appendFile(path, text string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return
	}
	f.WriteString(text)
	f.Close()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// addLib adds a package that the greeter imports, for edits outside main.
func addLib(dir string) error {
	if err := os.Mkdir(filepath.Join(dir, "lib"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "lib", "lib.go"), []byte("package lib\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "uselib.go"), []byte("package main\n\nimport _ \"example.com/greeter/lib\"\n"), 0o644)
}
