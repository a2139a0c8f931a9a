//go:generate go run ../internal/gendoc -o ../docs/cli.md

// Package cmd is wsgo's command line: serve, routes and the rest, with their
// flags, messages and exit codes. It serves the apps registered with package
// wsgi and registers none itself: wsgo's own main package imports the
// built-in apps, and a program with apps of its own calls [Execute] from its
// main with only those registered.
package cmd

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wsgo/wsgo/serve"
)

// Exit codes: the production program's (0 ok, 1 failure, 2 usage).
const (
	exitOK      = serve.ExitOK
	exitFailure = serve.ExitFailure
	exitUsage   = serve.ExitUsage
)

// Execute runs wsgo with the process's arguments and exits with its status.
// A program that registers its own apps calls it from main.
func Execute() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// cliArgs are the arguments wsgo runs with, for a program it runs in its
// place (see passThrough).
var cliArgs []string

func run(args []string, stdout, stderr io.Writer) int {
	cliArgs = args
	root := Root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code // the program wsgo ran has said what went wrong
	}
	nameSource(c, err)
	fmt.Fprintf(stderr, "wsgo: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.hint != "" {
			fmt.Fprintln(stderr, ue.hint)
		}
		return exitUsage
	}
	return exitFailure
}

// exitError ends wsgo with the status of a program it ran in its place.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct {
	err  error
	hint string // printed after the error: usage, the registered apps, …
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) *usageError {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// valueError is a flag's value that parses yet cannot be right. It names
// where the value came from: the flag, unless nameSource finds that an
// environment variable stood in for it.
type valueError struct {
	flag   string
	value  string // as the message shows it, quoted if a string
	why    string
	source string // "WSGO_PORT=", or "" for the flag
}

func (e *valueError) Error() string {
	return fmt.Sprintf("invalid %s%s: %s", cmp.Or(e.source, "--"+e.flag+" "), e.value, e.why)
}

// flagWhy is a flag value's own reason for refusing a value, shown as
// shown, which a flag's Set returns to be quoted as it is.
type flagWhy struct {
	shown string
	err   error
}

func (w *flagWhy) Error() string { return w.err.Error() }

// invalidValue is a usage error for flag's value, shown as value.
func invalidValue(flag, value, why string) *usageError {
	return &usageError{err: &valueError{flag: flag, value: value, why: why}}
}

// envAnnotation marks a flag that flagsFromEnv set from the environment,
// with the variable's name.
const envAnnotation = "wsgo-env"

// nameSource points err, if it is about a flag's value that c took from
// the environment, at that variable rather than the flag.
func nameSource(c *cobra.Command, err error) {
	var bad *valueError
	if c == nil || !errors.As(err, &bad) {
		return
	}
	if f := c.Flags().Lookup(bad.flag); f != nil && len(f.Annotations[envAnnotation]) > 0 {
		bad.source = f.Annotations[envAnnotation][0] + "="
	}
}

// Root returns wsgo's command tree, for programs that add commands of their
// own, and for generating the CLI reference.
func Root() *cobra.Command {
	root := &cobra.Command{
		Use:   "wsgo",
		Short: "A development server for WSGI-style Go apps",
		Long: `wsgo serves apps written to a WSGI-style contract: an app receives the
request's environ and a start_response callback, and returns its body as an
iterator. Apps register by name; wsgo serve runs one on a local port.`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		// cobra sets this default only on its own unknown-command path,
		// which RunE replaces; left at 0, only prefixes were suggested.
		SuggestionsMinimumDistance: 2,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := suggestCommand(c, args[0]); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			return &usageError{err: errors.New(msg), hint: "Run 'wsgo --help' for the commands."}
		},
	}
	root.PersistentFlags().Bool("no-color", false, "never colour the output (NO_COLOR in the environment does the same)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		var bad *pflag.InvalidValueError
		var why *flagWhy
		switch {
		case !errors.As(err, &bad):
		case errors.As(err, &why):
			err = invalidValue(bad.GetFlag().Name, why.shown, why.err.Error()).err
		default:
			f := bad.GetFlag()
			err = fmt.Errorf("invalid --%s %q: want a %s", f.Name, bad.GetValue(), typeWord(f.Value.Type()))
		}
		return &usageError{err: err, hint: fmt.Sprintf("Run '%s --help' for usage.", c.CommandPath())}
	})
	root.AddCommand(newServe(), newRun(), newRoutes(), newNew(), newBuild())
	return root
}

// version is the module version wsgo was built at, or "devel".
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return "devel"
	}
	return info.Main.Version
}

// typeWord names a flag's value type as a user would.
func typeWord(t string) string {
	switch t {
	case "int":
		return "whole number"
	case "duration":
		return "duration such as 5s or 250ms"
	case "bool":
		return "true or false"
	}
	return t
}
