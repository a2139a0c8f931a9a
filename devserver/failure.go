package devserver

import (
	"net/http"
	"strings"
	"time"
)

// Failure returns a handler that answers every request with 500 and the
// failure: a build's compiler output or a server's crash, its first line the
// title. Clients on this machine see it, browsers as an HTML page with each
// file:line marked; anyone else sees only the status, as with an app's
// failure.
func Failure(failure string) http.Handler {
	title, detail, _ := strings.Cut(failure, "\n")
	p := failurePage{
		Title:  title,
		Detail: strings.TrimLeft(detail, "\n"),
		Footer: time.Now().Format("15:04:05") + " · wsgo serves this page, only to clients on this machine, until the next good build: save a fix and this page reloads itself (or reload it).",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeFailure(w, r, p)
	})
}
