package python

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// A Target names a Python WSGI app, as gunicorn and Flask name one: a file or
// a module, and the callable in it. [ParseTarget] reads the written forms:
//
//	app.py                    the file's application, else its app
//	path/to/site.py:server    the file's callable named server
//	mysite.wsgi               the module's application, else its app
//	mysite.wsgi:application   the module's callable
//	shop:create_app()         the module's factory, called once a worker
//	shop:create_app("dev", debug=True)   a factory with literal arguments
//
// A file runs with its directory (or, inside a package, the package's
// parent) first on sys.path, a module with the project directory first.
type Target struct {
	File   string // the .py file, as written (relative to the project directory); "" for a module
	Module string // the dotted module name; "" for a file
	// Name is the callable: an attribute of the module, dotted for an
	// attribute of an attribute ("app.wsgi_app"). "" means application,
	// else app.
	Name string
	// Call is true when Name is a factory to call ("create_app()").
	Call bool
	// Args are the factory's arguments as written between its parentheses:
	// Python literals, positional or by keyword.
	Args string
}

// String returns t as [ParseTarget] reads it.
func (t Target) String() string {
	s := t.File
	if s == "" {
		s = t.Module
	}
	if t.Name != "" {
		s += ":" + t.Name
		if t.Call {
			s += "(" + t.Args + ")"
		}
	}
	return s
}

// IsTarget reports whether s names a Python app rather than a registered Go
// app: a Python target holds ".py" or ":", which a Go app's name never does.
func IsTarget(s string) bool {
	return strings.HasSuffix(s, ".py") || strings.Contains(s, ":")
}

// ParseTarget reads a target written as `file.py`, `file.py:callable`,
// `package.module`, `package.module:callable` or with a factory call,
// `module:create_app()`. See [Target].
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Target{}, errors.New("empty Python target: name a file such as app.py, or a module and its callable such as mysite.wsgi:application")
	}
	var t Target
	var callable string
	hasColon := false
	switch i := strings.LastIndex(s, ".py:"); {
	case i >= 0:
		t.File, callable, hasColon = s[:i+len(".py")], s[i+len(".py:"):], true
	case strings.HasSuffix(s, ".py"):
		t.File = s
	default:
		t.Module, callable, hasColon = strings.Cut(s, ":")
	}
	if t.File == ".py" || strings.HasSuffix(t.File, "/.py") {
		return Target{}, fmt.Errorf("Python target %q: %q is not a module's file name", s, t.File)
	}
	if t.Module != "" || t.File == "" {
		if !isDotted(t.Module) {
			return Target{}, fmt.Errorf("Python target %q: %q is not a module name (dotted Python identifiers, as in mysite.wsgi) nor a .py file", s, t.Module)
		}
	}
	if hasColon {
		if callable == "" {
			return Target{}, fmt.Errorf("Python target %q: nothing after the colon: name the WSGI callable, as in %s:app", s, strings.TrimSuffix(s, ":"))
		}
		if err := t.parseCallable(callable); err != nil {
			return Target{}, fmt.Errorf("Python target %q: %w", s, err)
		}
	}
	return t, nil
}

// parseCallable reads "name", "a.b" or "factory(args)".
func (t *Target) parseCallable(s string) error {
	name, args, call := strings.Cut(s, "(")
	if call {
		if !strings.HasSuffix(args, ")") {
			return fmt.Errorf("%q opens a parenthesis it does not close: write a factory call as create_app()", s)
		}
		t.Call, t.Args = true, strings.TrimSpace(strings.TrimSuffix(args, ")"))
	}
	name = strings.TrimSpace(name)
	if !isDotted(name) {
		return fmt.Errorf("%q is not a callable's name (a Python identifier, as in app, or a factory call, as in create_app())", s)
	}
	t.Name = name
	return nil
}

// isDotted reports whether s is Python identifiers joined by dots.
func isDotted(s string) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if !isIdentifier(part) {
			return false
		}
	}
	return true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)) {
			continue
		}
		return false
	}
	return true
}
