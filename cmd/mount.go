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
	return o.mountsWith(func(name string) (wsgi.Entry, error) { return o.resolve(ctx, name, s, log) })
}

// checkApps checks the app to serve and the mounts, as the server that
// will serve them would, but starts no Python app: the supervisor checks
// the command line, its server processes run the apps.
func (o serveOptions) checkApps(name string) error {
	root, err := lookupApp(name)
	if err != nil {
		return err
	}
	specs, err := o.mountsWith(func(name string) (wsgi.Entry, error) {
		if !isPythonTarget(name) {
			return lookupApp(name)
		}
		if _, err := parsePythonTarget(name); err != nil {
			return wsgi.Entry{}, err
		}
		return wsgi.Entry{Name: name, App: wsgi.AppFunc(nil)}, o.checkPythonFlags()
	})
	if err == nil {
		_, err = mountApps(root, specs)
	}
	return err
}

// mountsWith reads --mount values, finding each app with resolve.
func (o serveOptions) mountsWith(resolve func(name string) (wsgi.Entry, error)) ([]mountSpec, error) {
	var specs []mountSpec
	for _, v := range o.mounts {
		prefix, name, err := serve.ParseMount(v)
		if err != nil {
			return nil, usageErrorf("invalid --mount %q: %v", v, err)
		}
		e, err := resolve(name)
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
