package serve

import (
	"fmt"
	"strings"

	"github.com/wsgo/wsgo/internal/suggest"
	"github.com/wsgo/wsgo/wsgi"
)

// UnknownAppError is a name that no app of the program is registered
// under. Its message is the one every wsgo command gives: the name, what
// was likely meant, and the names there are.
type UnknownAppError struct {
	Name  string
	Known []string // the registered names, sorted
}

func (e *UnknownAppError) Error() string {
	msg := fmt.Sprintf("unknown app %q", e.Name)
	list := strings.Join(e.Known, ", ")
	switch s := suggest.Closest(e.Name, e.Known); {
	case s != "":
		return msg + fmt.Sprintf("; did you mean %q? The registered apps are %s", s, list)
	case len(e.Known) > 0:
		return msg + "; the registered apps are " + list
	}
	return msg + "; no app is registered"
}

// Lookup returns the app registered under name, or an *UnknownAppError.
func Lookup(name string) (wsgi.Entry, error) {
	if e, ok := wsgi.Lookup(name); ok {
		return e, nil
	}
	return wsgi.Entry{}, &UnknownAppError{Name: name, Known: wsgi.Names()}
}
