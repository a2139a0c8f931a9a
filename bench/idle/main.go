// Command idle measures what wsgo serve costs when nothing happens: the
// time from start to a ready server, and the CPU the supervisor and its
// server use over a quiet sample, in a module of many files.
//
//	go run ./bench/idle -files 5000 -sample 10s
//	go run ./bench/idle -files 5000 -sample 30s -poll 1s   # watching by polling
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsgo/wsgo/internal/greeter"
)

func main() {
	files := flag.Int("files", 5000, "files in the module's tree")
	sample := flag.Duration("sample", 10*time.Second, "how long to sample the idle CPU")
	poll := flag.Duration("poll", 0, "watch by polling at this interval (serve --poll), rather than by events")
	flag.Parse()
	if err := run(*files, *sample, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "bench/idle:", err)
		os.Exit(1)
	}
}

func run(files int, sample, poll time.Duration) error {
	work, mod, err := greeter.Bench("idle")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// Packages the program does not import, 50 files each: all watched.
	for i := 0; i < files; i++ {
		dir := filepath.Join(mod, "pkgs", fmt.Sprintf("p%03d", i/50))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		src := fmt.Sprintf("package p%03d\n\nconst C%d = %d\n", i/50, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.go", i)), []byte(src), 0o644); err != nil {
			return err
		}
	}
	bin := filepath.Join(work, "greeter-bin")
	if err := greeter.Go(mod, "build", "-o", bin, "."); err != nil {
		return err
	}

	began := time.Now()
	args := []string{"serve", "greet", "--port", "0"}
	if poll > 0 {
		args = append(args, "--poll="+poll.String())
	}
	srv := exec.Command(bin, args...)
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
	sc := bufio.NewScanner(out)
	var watching []string
	server := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Watching") {
			watching = append(watching, strings.TrimSpace(line))
		}
		if _, pid, ok := strings.Cut(line, "Ready in"); ok {
			server, _ = strconv.Atoi(pid[strings.LastIndex(pid, " ")+1:])
			break
		}
	}
	startup := time.Since(began)
	go io.Copy(io.Discard, out)
	if server == 0 {
		return fmt.Errorf("wsgo exited before it was ready")
	}

	sup0, srv0 := cpu(srv.Process.Pid), cpu(server)
	time.Sleep(sample)
	sup1, srv1 := cpu(srv.Process.Pid), cpu(server)
	fmt.Println(strings.Join(watching, "\n"))
	fmt.Printf("start to ready: %v\n", startup.Round(time.Millisecond))
	share := func(d time.Duration) float64 { return 100 * float64(d) / float64(sample) }
	fmt.Printf("idle CPU over %v: supervisor %v (%.2f%% of a core), server %v (%.2f%% of a core)\n",
		sample, sup1-sup0, share(sup1-sup0), srv1-srv0, share(srv1-srv0))
	return nil
}

// cpu returns the user and system time process pid has used.
func cpu(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks; USER_HZ is 100 on Linux
}
