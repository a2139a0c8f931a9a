package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// A Program is a production program that starts the app it serves, where
// [Main] serves apps registered in it: a Python app's worker processes,
// say. [Program.Main] gives that app what Main gives a registered one: the
// same flags (-host, -port, -grace, -read-timeout, -proxy, -proxy-header,
// -log-format, -upgrade-on-hup) and environment (WSGO_HOST, WSGO_PORT),
// request ids and the access log, trusted proxies, the production gateway,
// a socket passed under LISTEN_FDS, the drain on SIGTERM, and upgrades on
// SIGHUP.
type Program struct {
	// Command runs this program again when followed by the arguments Main
	// was given, such as {os.Args[0], "run"}. Under -upgrade-on-hup, the
	// process that holds the socket starts Command, with the arguments, on
	// every SIGHUP, as it is on disk then. It also names the program in
	// messages.
	Command []string
	// Usage is the synopsis after the program's name, such as "TARGET
	// [flags]", then what the program serves, for -help.
	Usage string
	// Flags defines the program's own flags, beside Main's.
	Flags func(fs *flag.FlagSet)
	// Hint, if set, gives a word on a flag the program does not have (its
	// name without dashes): the flag of the same meaning, for a user who
	// knows another server's. "" when it has none.
	Hint func(flag string) string
	// Check checks the arguments left once the flags are parsed, and
	// returns the name of the app they give, for the log. Its error is a
	// mistake on the command line.
	Check func(args []string) (name string, err error)
	// Start starts the app. Main calls it only in a process that is to
	// serve, never in the -upgrade-on-hup process that holds the socket and
	// starts the others; a server says it is ready only once Start has
	// returned, so that an upgrade swaps to an app that has started. An
	// error is logged and ends the program, and, in an upgrade, leaves the
	// old program serving. Main calls stop once the server has drained.
	Start func(ctx context.Context, name string, logs Logs) (app wsgi.App, stop func(), err error)
}

// Logs are where a [Program]'s app writes, in the program's -log-format.
type Logs struct {
	Info  *log.Logger // what happens and calls for nothing
	Error *log.Logger // what went wrong (ERROR in a JSON log)
	// Stdout and Stderr are for what the app's own processes print: a
	// JSON log makes a record of each line, its source "stdout" or
	// "stderr".
	Stdout, Stderr io.Writer
}

func (l logs) forApp() Logs {
	return Logs{Info: l.std, Error: l.error, Stdout: l.output("stdout"), Stderr: l.output("stderr")}
}

// Main runs the program with args, its flags and the arguments Check takes
// in any order, and returns its exit status: ExitOK, ExitFailure, or
// ExitUsage for a mistake on the command line, said on stderr.
func (p *Program) Main(args []string, stdout, stderr io.Writer) int {
	ctx, now, release := Interrupts(context.Background())
	defer release()
	if len(p.Command) == 0 || p.Start == nil || p.Check == nil {
		fmt.Fprintln(stderr, "serve: a Program needs a Command, a Check and a Start")
		return ExitFailure
	}
	name := filepath.Base(p.Command[0])
	if len(p.Command) > 1 {
		name += " " + strings.Join(p.Command[1:], " ")
	}
	o, err := p.parse(name, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		return usageError(stderr, name, err, p.Hint)
	}
	again := append(p.Command[1:len(p.Command):len(p.Command)], args...)
	return o.serve(ctx, now, p.Command[0], again, stderr, p.Start)
}

// parse reads the command line of p.
func (p *Program) parse(name string, args []string, stderr io.Writer) (options, error) {
	fs, printUsage := newFlagSet(name, stderr, p.Usage)
	o, err := serverFlags(fs)
	if err != nil {
		return *o, err
	}
	if p.Flags != nil {
		p.Flags(fs)
	}
	var never bool
	positional, err := parseAround(fs, args, &never, printUsage)
	if err != nil {
		return *o, err
	}
	if o.app, err = p.Check(positional); err != nil {
		return *o, err
	}
	return *o, o.check(fs)
}
