package cmd

import (
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// mountSpec is one --mount PREFIX=APP.
type mountSpec struct {
	prefix string
	entry  wsgi.Entry
}

// parseMounts reads --mount values; every mistake is a usage error.
func parseMounts(values []string) ([]mountSpec, error) {
	var specs []mountSpec
	for _, v := range values {
		prefix, name, ok := strings.Cut(v, "=")
		if !ok || prefix == "" || name == "" {
			return nil, usageErrorf("invalid --mount %q: want PREFIX=APP, as in --mount /hello=hello", v)
		}
		e, err := lookupApp(name)
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
