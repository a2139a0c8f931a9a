package wsgi

import (
	"fmt"
	"slices"
	"sync"
)

// An Entry is a registered app with what the registry knows about it.
type Entry struct {
	Name        string
	Description string // one line, for listings; may be empty
	App         App
}

// An Option adds detail to a registration.
type Option func(*Entry)

// Describe gives a registered app a one-line description, shown by
// `wsgo routes` and in shell completion.
func Describe(line string) Option {
	return func(e *Entry) { e.Description = line }
}

var (
	mu       sync.RWMutex
	registry = map[string]Entry{}
)

// Register makes app available under name, to `wsgo serve NAME`. Call it from
// an init function. It panics if name is empty, if app is nil, or if the name
// is taken, as database/sql.Register does: each is a programming error.
func Register(name string, app App, opts ...Option) {
	if name == "" {
		panic("wsgi: Register with an empty name")
	}
	if app == nil {
		panic(fmt.Sprintf("wsgi: Register %q with a nil app", name))
	}
	e := Entry{Name: name, App: app}
	for _, o := range opts {
		o(&e)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("wsgi: Register called twice for %q", name))
	}
	registry[name] = e
}

// Lookup returns the app registered under name.
func Lookup(name string) (Entry, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[name]
	return e, ok
}

// Names returns the registered names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
