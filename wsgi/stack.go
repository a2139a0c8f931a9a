package wsgi

import (
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
)

// Where wsgo's own frames come from, for appStack to leave them out.
var gatewayFile, validateDir = func() (string, string) {
	_, file, _, _ := runtime.Caller(0)
	dir := path.Dir(file)
	return path.Join(dir, "gateway.go"), path.Join(dir, "validate")
}()

// appFuncServe is the frame of the one-line [AppFunc] adapter.
const appFuncServe = "github.com/wsgo/wsgo/wsgi.AppFunc.ServeWSGI"

// panicFrames returns the frames of the goroutine whose panic is being
// recovered, from the frame that panicked (below runtime.gopanic and the
// recovering function) to the goroutine's first. It must be called from the
// deferred function that recovers.
func panicFrames() []runtime.Frame {
	pcs := make([]uintptr, 128)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	var all []runtime.Frame
	for {
		f, more := frames.Next()
		all = append(all, f)
		if !more {
			break
		}
	}
	if i := slices.IndexFunc(all, func(f runtime.Frame) bool { return f.Function == "runtime.gopanic" }); i >= 0 {
		all = all[i+1:]
	}
	return all
}

// appStack returns the stack of a panic (all, from [panicFrames]), trimmed
// to the frames that tell the app's story: from the frame that panicked
// (below the runtime's frames and the gateway's) down to the app's outermost
// frame (above the gateway and net/http), without the validator's frames and
// the AppFunc adapter's, which wrap the app wherever it is. If that leaves
// nothing, the failure is not in the app's code, and the whole stack below
// the panic is the story.
func appStack(all []runtime.Frame) []byte {
	app := all
	for len(app) > 0 && (strings.HasPrefix(app[0].Function, "runtime.") || app[0].File == gatewayFile) {
		app = app[1:]
	}
	if i := slices.IndexFunc(app, func(f runtime.Frame) bool { return f.File == gatewayFile }); i >= 0 {
		app = app[:i]
	}
	app = slices.DeleteFunc(slices.Clone(app), func(f runtime.Frame) bool {
		return path.Dir(f.File) == validateDir || f.Function == appFuncServe
	})
	if len(app) == 0 {
		app = all
	}
	var b strings.Builder
	for _, f := range app {
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
	}
	return []byte(b.String())
}
