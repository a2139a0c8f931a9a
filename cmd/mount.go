package cmd

import (
	"context"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
)

// mountSpec is one --mount PREFIX=APP.
type mountSpec struct {
	prefix string
	entry  wsgi.Entry
}

// parseMounts reads --mount values, and starts the Python apps among them;
// every mistake in a value is a usage error.
func (o serveOptions) parseMounts(ctx context.Context, s *served, log *devserver.Logger) ([]mountSpec, error) {
	var specs []mountSpec
	for _, v := range o.mounts {
		prefix, name, err := serve.ParseMount(v)
		if err != nil {
			return nil, usageErrorf("invalid --mount %q: %v", v, err)
		}
		e, err := o.resolve(ctx, name, s, log)
		if pythonLoadFailed(err) {
			return nil, err
		}
		if err != nil {
			return nil, usageErrorf("invalid --mount %q: %v", v, err)
		}
		specs = append(specs, mountSpec{prefix, e})
	}
	return specs, nil
}

// mountApps serves root at "/" and each spec below its prefix.
func mountApps(root wsgi.Entry, specs []mountSpec) (wsgi.App, error) {
	if len(specs) == 0 {
		return root.App, nil
	}
	d := wsgi.NewDispatcher(root.App)
	for _, s := range specs {
		if err := d.Mount(s.prefix, s.entry.Name, s.entry.App); err != nil {
			return nil, usageErrorf("invalid --mount %s=%s: %v", s.prefix, s.entry.Name, err)
		}
	}
	return d, nil
}
