// Package devserver is what wsgo adds to package wsgi's gateway when it
// serves an app during development: a detailed error page for clients on
// the same machine ([NewGateway], [ErrorPage]), which puts the user's frames
// of a panic first, with their source, and the page that shows a failed
// build or a crash ([Failure]), their file:line positions linked to the
// user's editor ([Pages], [Editor]); the request log, coloured on a
// terminal ([Logger], [LogRequests]); live reload of the browser's pages
// ([LiveReload]); and an http.Server with a development server's limits that
// hands its clients over to the next server on a reload ([Server],
// [InFlight]).
//
// None of it belongs in production: there, serve an app with wsgi.Handler.
package devserver
