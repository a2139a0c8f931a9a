package devserver

import (
	stdlog "log"
	"net/http"
	"time"
)

// NewServer returns an http.Server for h with the limits a development server
// should still have: a ReadHeaderTimeout (net/http has none by default, which
// lets a slow client hold a connection open forever), a cap on header size,
// and an idle timeout. Its own errors go to log.
func NewServer(h http.Handler, log *Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(log, "", 0),
	}
}
