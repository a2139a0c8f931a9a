package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/internal/gcpace"
	"github.com/wsgo/wsgo/python"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
)

// runLong is wsgo run's help; its flags are listed by wsgo run -help.
const runLong = `Serve a Python WSGI app in production: Go speaks HTTP (the production
gateway: a failing app costs its client a bare 500, never a traceback), and
Python worker processes run the app. No validator, no reload, no watcher.

TARGET is what wsgo serve takes: app.py, app.py:app, mysite.wsgi,
shop:create_app(). The flags are a built program's, with single or double
dashes, before or after TARGET (wsgo run app.py -port 8001 -workers 2):

  -host, -port (or WSGO_HOST, WSGO_PORT)   where to listen; 127.0.0.1:8000
  -workers N, -threads N                   processes, and requests each serves at once
  -python PATH                             the interpreter (or WSGO_PYTHON, the virtual environment's, python3)
  -max-requests N, -max-requests-jitter N  recycle a worker after N requests (and up to jitter more)
  -proxy ADDR|CIDR[,...], -proxy-header    the reverse proxies whose X-Forwarded-* (or Forwarded) to believe
  -log-format text|json                    json: one object a line
  -grace, -read-timeout, -write-timeout    the drain's limit, a request body's, a client's reading
  -upgrade-on-hup                          SIGHUP starts new workers on the code on disk, then drains the old
  -max-restarts N                          with -upgrade-on-hup: failed restarts in a row before exiting 1

A socket passed under LISTEN_FDS (systemd socket activation) is served
instead of binding one. SIGTERM drains. See docs/production.md.`

func newRun() *cobra.Command {
	return &cobra.Command{
		Use:   "run TARGET [flags]",
		Short: "Serve a Python WSGI app in production",
		Long:  runLong,
		Example: `  wsgo run app.py:app -workers 2 -port 8001
  wsgo run mysite.wsgi -workers 4 -threads 8 -proxy 127.0.0.1 -log-format json -upgrade-on-hup`,
		// Flags are a built program's (serve.Main's): one parser for both.
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			gcpace.Tune() // this process's heap is small: the app lives in the workers
			limitGoProcs()
			if code := pythonProgram().Main(args, c.OutOrStdout(), c.ErrOrStderr()); code != exitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

// goProcs is how many of the n processors Go may use at once beside the
// Python workers: half of them. The workers do the app's work, a processor
// each while they compute, and Go only speaks HTTP and passes frames; with
// every processor, Go's scheduler spins and wakes threads across
// processors for each frame, which cost more CPU a request than it saved
// (docs/benchmarks.md). GOMAXPROCS in the environment still decides.
func goProcs(n int) int {
	return max(1, n/2)
}

// limitGoProcs gives Go goProcs of the processors it has, unless
// GOMAXPROCS in the environment decides.
func limitGoProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(goProcs(runtime.GOMAXPROCS(0)))
	}
}

// runOptions are wsgo run's own flags, beside a built program's.
type runOptions struct {
	python              string
	workers, threads    int
	maxRequests, jitter int
	target              python.Target
}

// pythonProgram is wsgo run: a production program whose app is a Python
// app's workers.
func pythonProgram() *serve.Program {
	o := &runOptions{}
	return &serve.Program{
		Command: []string{os.Args[0], "run"},
		Usage:   "TARGET [flags]\n\nServes the Python WSGI app TARGET (app.py, app.py:app, mysite.wsgi, shop:create_app()) in production.",
		Flags:   o.flags,
		Hint:    gunicornHint,
		Check:   o.check,
		Start:   o.start,
	}
}

// gunicornFlags are gunicorn's flags that wsgo run users reach for, and
// what does their work here.
var gunicornFlags = map[string]string{
	"b":                   "-host and -port",
	"bind":                "-host and -port",
	"w":                   "-workers",
	"k":                   "-threads (every worker has a pool of threads)",
	"worker-class":        "-threads (every worker has a pool of threads)",
	"graceful-timeout":    "-grace",
	"forwarded-allow-ips": "-proxy",
	"reload":              "wsgo serve, the development server",
	"access-logfile":      "the standard error, where the access log goes (-log-format json for a pipeline)",
	"error-logfile":       "the standard error, where every message goes",
	"chdir":               "the working directory, where wsgo run finds TARGET",
	"D":                   "a service manager's work (systemd)",
	"daemon":              "a service manager's work (systemd)",
}

// gunicornHint says what does the work of gunicorn's flag name.
func gunicornHint(name string) string {
	if name == "timeout" || name == "t" {
		return "wsgo run has no request timeout, as gunicorn's -" + name + ": a request that hangs holds its thread until the app returns; see docs/production.md."
	}
	if v, ok := gunicornFlags[name]; ok {
		return "For gunicorn's -" + name + ", use " + v + "."
	}
	return ""
}

func (o *runOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.python, "python", "", "the interpreter, a path or a command (or WSGO_PYTHON; else the active virtual environment's, .venv/bin/python, or python3)")
	fs.IntVar(&o.workers, "workers", 1, "worker processes: each imports the app, and serves -threads requests at once")
	fs.IntVar(&o.threads, "threads", python.DefaultThreads, "requests each worker serves at once, a thread each; 1 is a gunicorn sync worker")
	fs.IntVar(&o.maxRequests, "max-requests", 0, "recycle a worker after it has served this many requests (a new one starts first); 0 never does")
	fs.IntVar(&o.jitter, "max-requests-jitter", 0, "up to this many requests more, at random for each worker, so that workers do not recycle together")
}

// check takes the one TARGET and checks the numbers.
func (o *runOptions) check(args []string) (string, error) {
	switch {
	case len(args) == 0:
		return "", errors.New("which app? name a Python WSGI app, as wsgo run app.py:app")
	case len(args) > 1:
		return "", fmt.Errorf("one app at a time, got %d: %s", len(args), strings.Join(args, " "))
	case o.workers < 1:
		return "", fmt.Errorf("invalid -workers %d: want 1 or more", o.workers)
	case o.threads < 1:
		return "", fmt.Errorf("invalid -threads %d: want 1 or more", o.threads)
	case o.maxRequests < 0:
		return "", fmt.Errorf("invalid -max-requests %d: want 0 (never) or more", o.maxRequests)
	case o.jitter < 0:
		return "", fmt.Errorf("invalid -max-requests-jitter %d: want 0 or more", o.jitter)
	case o.jitter > 0 && o.maxRequests == 0:
		return "", fmt.Errorf("-max-requests-jitter %d without -max-requests: jitter spreads the recycling that -max-requests N asks for, as -max-requests 1000 -max-requests-jitter 100", o.jitter)
	}
	t, err := parsePythonTarget(args[0])
	if err != nil {
		return "", err
	}
	o.target = t
	return args[0], nil
}

// importPatience is how long an import may take before the log says that
// it is still going on: an import that waits for ever would otherwise be
// silent, with nothing listening.
var importPatience = 10 * time.Second

// start starts the workers, in production mode, and waits until every one
// has imported the app.
func (o *runOptions) start(ctx context.Context, name string, logs serve.Logs) (wsgi.App, func(), error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	slow := time.AfterFunc(importPatience, func() {
		logs.Info.Printf("%s: still importing after %s (is its import waiting on something? SIGTERM stops it)", name, importPatience)
	})
	defer slow.Stop()
	app, err := python.Start(ctx, o.target, python.Options{
		Python: o.python, Dir: wd, Workers: o.workers, Threads: o.threads,
		Stdout: logs.Stdout, Stderr: logs.Stderr,
		Logf: logs.Error.Printf, Infof: logs.Info.Printf,
		MaxRequests: o.maxRequests, MaxRequestsJitter: o.jitter,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s could not start: %w", name, err)
	}
	in := app.Interpreter()
	logs.Info.Printf("%s imported by Python %s (%s): %d worker(s) of %d thread(s)", name, in.Version, in.Path, o.workers, o.threads)
	return app, func() { app.Close() }, nil
}
