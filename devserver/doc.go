// Package devserver is what wsgo adds to package wsgi's gateway when it
// serves an app during development: a detailed error page for clients on
// the same machine ([NewGateway], [ErrorPage]) and the page that shows a
// failed build or a crash ([Failure]); the request log, coloured on a
// terminal ([Logger], [LogRequests]); live reload of the browser's pages
// ([LiveReload]); and an http.Server with a development server's limits that
// hands its clients over to the next server on a reload ([Server],
// [InFlight]).
//
// None of it belongs in production: there, serve an app with wsgi.Handler.
package devserver
