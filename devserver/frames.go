package devserver

import (
	"bufio"
	"errors"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/wsgo/wsgo/wsgi"
)

// wsgoModule is wsgo's module path, the contract's less its last element:
// its frames are folded away on the error page, except for its built-in
// apps when wsgo itself is the program.
var wsgoModule = path.Dir(reflect.TypeFor[wsgi.Environ]().PkgPath())

// A frameKind says whose code a frame runs.
type frameKind int

const (
	userFrame frameKind = iota // the module being served, or a module replaced by a directory of it
	wsgoFrame                  // wsgo's own
	stdFrame                   // the runtime's and the standard library's
	depFrame                   // a dependency's, from the module cache
	libFrame                   // a traceback's frame that is not the user's: its language's library or a package
)

// A frame is one frame of a panic's stack, with whose code it is.
type frame struct {
	runtime.Frame
	Kind frameKind
	// Source is the line as the failing program read it, for a frame of
	// a traceback that tells it: the file may not be readable here.
	Source string
	// Foreign is true for a traceback's frame: its program started apart
	// from this one, which cannot tell whether it ran an older file.
	Foreign bool
}

// stale reports whether f's file changed since its program started.
func (f frame) stale() bool {
	return !f.Foreign && changedSinceStart(f.File)
}

// A classifier tells whose code a frame runs from its function's package.
type classifier struct {
	// user are the package path prefixes of the user's code: the main
	// module's and those of modules replaced by a directory (a workspace's
	// or a replace directive's), wsgo's excepted.
	user []string
}

// frameClasses is the classifier of this program's frames.
var frameClasses = sync.OnceValue(func() classifier {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return classifier{user: []string{"main"}}
	}
	return classifierFor(info)
})

// classifierFor finds the user's modules in a program's build information.
// When the program is wsgo itself, the user's code is its built-in apps.
func classifierFor(info *debug.BuildInfo) classifier {
	c := classifier{user: []string{"main"}}
	switch mod := info.Main.Path; mod {
	case wsgoModule:
		c.user = append(c.user, wsgoModule+"/apps")
	case "":
	default:
		c.user = append(c.user, mod)
	}
	for _, d := range info.Deps {
		if d.Replace != nil && d.Replace.Version == "" && d.Path != wsgoModule {
			c.user = append(c.user, d.Path)
		}
	}
	return c
}

// kind classifies f by the package of its function.
func (c classifier) kind(f runtime.Frame) frameKind {
	pkg := funcPackage(f.Function)
	for _, p := range c.user {
		if within(pkg, p) {
			return userFrame
		}
	}
	switch {
	case within(pkg, wsgoModule):
		return wsgoFrame
	case !strings.Contains(strings.Split(pkg, "/")[0], "."):
		return stdFrame
	}
	return depFrame
}

// classify returns frames with their kinds.
func (c classifier) classify(frames []runtime.Frame) []frame {
	out := make([]frame, len(frames))
	for i, f := range frames {
		out[i] = frame{Frame: f, Kind: c.kind(f)}
	}
	return out
}

func within(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// funcPackage returns the import path of a function's package, from its
// name as the runtime gives it: "example.com/m/pkg.(*T).Method.func1" is in
// "example.com/m/pkg". The runtime escapes the dots of the path's last
// element ("gopkg.in/yaml%2ev3.Unmarshal").
func funcPackage(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i] // a generic function's type arguments may hold slashes
	}
	slash := strings.LastIndexByte(name, '/') + 1
	if dot := strings.IndexByte(name[slash:], '.'); dot >= 0 {
		name = name[:slash+dot]
	}
	return strings.ReplaceAll(name, "%2e", ".")
}

// tracebackOf returns err's own stack if it carries one (a Python
// exception does), or nil.
func tracebackOf(err error) wsgi.Traceback {
	var tb wsgi.Traceback
	if errors.As(err, &tb) {
		return tb
	}
	return nil
}

// tracebackFrames returns a traceback's frames, the user's as the
// traceback tells them.
func tracebackFrames(tb wsgi.Traceback) []frame {
	var out []frame
	for _, f := range tb.TracebackFrames() {
		kind := libFrame
		if f.User {
			kind = userFrame
		}
		out = append(out, frame{Frame: runtime.Frame{Function: f.Function, File: f.File, Line: f.Line}, Kind: kind, Source: f.Source, Foreign: true})
	}
	return out
}

// others says whose the frames that are not the user's are, on the page
// ("N of them …") and in the terminal ("N frames of …").
type others struct{ page, terminal string }

var (
	goOthers        = others{"wsgo's, Go's or dependencies'", "wsgo, Go and dependencies"}
	tracebackOthers = others{"its language's library's or packages'", "the language's library and packages"}
)

// failureFrames returns the frames of an app's failure: its error's own
// traceback if it has one, else the Go stack it panicked on; and whose the
// frames that are not the user's are.
func (c classifier) failureFrames(f *wsgi.Failure) ([]frame, others) {
	if tb := tracebackOf(f.Err); tb != nil {
		return tracebackFrames(tb), tracebackOthers
	}
	return c.classify(f.Frames), goOthers
}

// userFrames returns the user's frames among frames.
func userFrames(frames []frame) []frame {
	var out []frame
	for _, f := range frames {
		if f.Kind == userFrame {
			out = append(out, f)
		}
	}
	return out
}

// A srcLine is one line of a source excerpt.
type srcLine struct {
	N    int
	Text string
	Hit  bool // the line the frame or the compiler points at
}

// maxSourceSize is the largest file an excerpt is read from: anything larger
// is not source a person wrote.
const maxSourceSize = 4 << 20

// excerpt returns the lines of file from line-around to line+around, or nil
// if the file cannot be read or has no such line.
func excerpt(file string, line, around int) []srcLine {
	fi, err := os.Stat(file)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxSourceSize || line < 1 {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []srcLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxSourceSize)
	for n := 1; n <= line+around && sc.Scan(); n++ {
		if n >= line-around {
			out = append(out, srcLine{N: n, Text: strings.TrimRight(sc.Text(), "\r"), Hit: n == line})
		}
	}
	switch {
	case len(out) > 0 && out[len(out)-1].N == line-1:
		// The compiler's "unexpected EOF" points just past the last line.
		out = append(out, srcLine{N: line, Hit: true})
	case len(out) == 0 || out[len(out)-1].N < line:
		return nil // the file is shorter than the frame says: it changed
	}
	return out
}

// started is when this process started, near enough: a source file
// modified after it is not the one the running program was built from.
var started = time.Now()

// staleNote is what the page and the terminal say next to the source of a
// frame whose file changed since the program started.
const staleNote = "changed since this server started: the line shown may not be the one that ran"

// changedSinceStart reports whether file was modified after this process
// started.
func changedSinceStart(file string) bool {
	fi, err := os.Stat(file)
	return err == nil && fi.ModTime().After(started)
}

// sourceLine returns the one line of file at line, its indentation trimmed,
// or "" if it cannot be read.
func sourceLine(file string, line int) string {
	for _, l := range excerpt(file, line, 0) {
		return strings.TrimSpace(l.Text)
	}
	return ""
}

// shortPath returns file relative to the working directory when it is below
// it, as the terminal shows it; else file.
func shortPath(file string) string {
	wd, err := os.Getwd()
	if err != nil {
		return file
	}
	rel, err := filepath.Rel(wd, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return file
	}
	return rel
}
