// Package devserver is what wsgo adds to package wsgi's gateway when it
// serves an app during development: a detailed error page for clients on
// the same machine ([NewGateway], [ErrorPage]), which puts the user's frames
// of a panic first, with their source, and the page shown while no app can
// serve, for a failed build, a crash or a Python import error ([Problem]),
// their file:line positions linked to the user's editor ([Pages],
// [Editor]); the request log, coloured on a terminal ([Logger],
// [LogRequests]); and live reload of the browser's pages ([LiveReload]).
// The server that runs it all, with its drain and hand-over, is package
// serve's.
//
// None of it belongs in production: there, serve an app with wsgi.Handler.
package devserver
