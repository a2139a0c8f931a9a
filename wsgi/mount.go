package wsgi

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Dispatcher serves several apps from one server, each below its own path
// prefix, and a root app for everything else, as Werkzeug's
// DispatcherMiddleware does. The longest matching prefix wins; it moves from
// PATH_INFO to SCRIPT_NAME (PEP 3333), so the mounted app sees paths relative
// to its mount point. A prefix matches only whole segments: "/hello" matches
// "/hello" and "/hello/x", not "/helloworld".
type Dispatcher struct {
	root   App
	mounts []mount // longest prefix first
}

type mount struct {
	prefix, name string
	app          App
}

// AppNameKey is the environ key where a [Dispatcher] records the name of the
// mounted app it sends a request to, so that a server or the validator
// blames the app that failed, not the root app the server was started with.
// It is absent when the root app serves the request.
const AppNameKey = "wsgo.app_name"

// NewDispatcher returns a Dispatcher that sends to root what no mount takes.
func NewDispatcher(root App) *Dispatcher {
	return &Dispatcher{root: root}
}

// Mount serves app, called name in messages, below prefix, which must start
// with "/" and must not be mounted already. A trailing slash is dropped:
// "/hello/" is "/hello".
func (d *Dispatcher) Mount(prefix, name string, app App) error {
	if !strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("mount prefix %q must start with /", prefix)
	}
	p := strings.TrimRight(prefix, "/")
	if p == "" {
		return fmt.Errorf("mount prefix %q is the root; the app named first serves /", prefix)
	}
	for _, m := range d.mounts {
		if m.prefix == p {
			return fmt.Errorf("mount prefix %q is given twice", p)
		}
	}
	d.mounts = append(d.mounts, mount{p, name, app})
	slices.SortStableFunc(d.mounts, func(a, b mount) int { return len(b.prefix) - len(a.prefix) })
	return nil
}

// Prefixes returns the mounted prefixes, longest first.
func (d *Dispatcher) Prefixes() []string {
	out := make([]string, len(d.mounts))
	for i, m := range d.mounts {
		out[i] = m.prefix
	}
	return out
}

// ServeWSGI sends the request to the app mounted at the longest prefix of
// PATH_INFO, naming it under [AppNameKey], or to the root app.
func (d *Dispatcher) ServeWSGI(env Environ, start StartResponse) iter.Seq[[]byte] {
	path := env.PathInfo()
	for _, m := range d.mounts {
		if rest, ok := strings.CutPrefix(path, m.prefix); ok && (rest == "" || rest[0] == '/') {
			env["SCRIPT_NAME"] = env.ScriptName() + m.prefix
			env["PATH_INFO"] = rest
			env[AppNameKey] = m.name
			return m.app.ServeWSGI(env, start)
		}
	}
	return d.root.ServeWSGI(env, start)
}
