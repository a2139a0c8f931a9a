//go:build unix

// Command pyreload measures save-to-new-response for one Flask app under
// `wsgo serve` (with its preloader, and with --no-preload) and under
// `flask --debug run` (Werkzeug's reloader), side by side in one run: after each save of a view, how long until a request
// answers with the new text. A client polls each server without pause and
// counts the requests that fail.
//
//	go run ./bench/pyreload -n 10 -python /usr/bin/python3
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const app = `import json
import os

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "edit %d\n"
`

func main() {
	n := flag.Int("n", 10, "saves for each server")
	py := flag.String("python", "/usr/bin/python3", "a Python with Flask")
	wsgo := flag.String("wsgo", "", "the wsgo binary (default: go build of this checkout)")
	flag.Parse()
	if err := run(*n, *py, *wsgo); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pyreload:", err)
		os.Exit(1)
	}
}

type server struct {
	name string
	cmd  func(dir string, port int) *exec.Cmd
}

func run(n int, py, wsgo string) error {
	work, err := os.MkdirTemp("", "pyreload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if wsgo == "" {
		wsgo = filepath.Join(work, "wsgo")
		if out, err := exec.Command("go", "build", "-o", wsgo, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	servers := []server{
		{"wsgo serve", func(dir string, port int) *exec.Cmd {
			return exec.Command(wsgo, "serve", "app.py", "--python", py, "--port", strconv.Itoa(port))
		}},
		{"wsgo --no-preload", func(dir string, port int) *exec.Cmd {
			return exec.Command(wsgo, "serve", "app.py", "--python", py, "--port", strconv.Itoa(port), "--no-preload")
		}},
		{"flask --debug run", func(dir string, port int) *exec.Cmd {
			return exec.Command(py, "-m", "flask", "--app", "app", "--debug", "run", "--port", strconv.Itoa(port))
		}},
	}
	results := map[string][]time.Duration{}
	failed := map[string]int64{}
	total := map[string]int64{}
	// Interleaved, a save at a time for each, so that load on the machine
	// falls on both alike.
	type live struct {
		url  string
		dir  string
		stop func()
		poll *poller
	}
	lives := make([]live, len(servers))
	for i, s := range servers {
		dir := filepath.Join(work, strconv.Itoa(i))
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(fmt.Sprintf(app, 0)), 0o644); err != nil {
			return err
		}
		port, err := freePort()
		if err != nil {
			return err
		}
		c := s.cmd(dir, port)
		c.Dir = dir
		c.Env = append(os.Environ(), "NO_COLOR=1")
		c.Stdout, c.Stderr = io.Discard, io.Discard
		c.SysProcAttr = groupAttr()
		if err := c.Start(); err != nil {
			return err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/", port)
		if err := waitFor(url, "edit 0", 60*time.Second); err != nil {
			killGroup(c)
			return fmt.Errorf("%s: %w", s.name, err)
		}
		lives[i] = live{url: url, dir: dir, stop: func() { killGroup(c) }, poll: startPoller(url)}
		defer lives[i].stop()
	}
	for edit := 1; edit <= n; edit++ {
		for i, s := range servers {
			l := lives[i]
			saved := time.Now()
			if err := os.WriteFile(filepath.Join(l.dir, "app.py"), []byte(fmt.Sprintf(app, edit)), 0o644); err != nil {
				return err
			}
			got, err := l.poll.waitFor(fmt.Sprintf("edit %d\n", edit), 60*time.Second)
			if err != nil {
				return fmt.Errorf("%s, edit %d: %w", s.name, edit, err)
			}
			results[s.name] = append(results[s.name], got.Sub(saved))
		}
	}
	for i, s := range servers {
		total[s.name], failed[s.name] = lives[i].poll.stop()
	}
	fmt.Printf("save to new response, %d saves each, interleaved (median, min, max); requests failed while polling\n", n)
	for _, s := range servers {
		d := results[s.name]
		slices.Sort(d)
		fmt.Printf("%-18s median %6s  min %6s  max %6s  failed %d of %d\n", s.name, round(d[len(d)/2]), round(d[0]), round(d[len(d)-1]), failed[s.name], total[s.name])
	}
	flask := results[servers[len(servers)-1].name]
	for _, s := range servers[:len(servers)-1] {
		d := results[s.name]
		fmt.Printf("ratio %s / flask (medians): %.2f\n", s.name, float64(d[len(d)/2])/float64(flask[len(flask)/2]))
	}
	return nil
}

// poller asks url without pause and notes when each body was first seen.
type poller struct {
	done          chan struct{}
	seen          chan string
	total, failed atomic.Int64
}

func startPoller(url string) *poller {
	p := &poller{done: make(chan struct{}), seen: make(chan string, 1)}
	go func() {
		client := &http.Client{Timeout: 30 * time.Second}
		for {
			select {
			case <-p.done:
				return
			default:
			}
			body, err := get(client, url)
			p.total.Add(1)
			if err != nil {
				p.failed.Add(1)
				continue
			}
			select {
			case p.seen <- body:
			default:
			}
		}
	}()
	return p
}

// waitFor returns when a body equal to want was seen.
func (p *poller) waitFor(want string, limit time.Duration) (time.Time, error) {
	deadline := time.After(limit)
	for {
		select {
		case body := <-p.seen:
			if body == want {
				return time.Now(), nil
			}
		case <-deadline:
			return time.Time{}, errors.New("the new text never came")
		}
	}
}

func (p *poller) stop() (total, failed int64) {
	close(p.done)
	return p.total.Load(), p.failed.Load()
}

func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return b.String(), err
}

func waitFor(url, want string, limit time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if body, err := get(client, url); err == nil && strings.Contains(body, want) {
			return nil
		}
	}
	return fmt.Errorf("%s did not answer %q in %s", url, want, limit)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
