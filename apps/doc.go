// Package apps holds wsgo's built-in apps: "demo", which echoes the request
// and dumps its environ, and "hello", a small app made with the router.
// Importing the package registers both; wsgo's own main package does, so
// that `wsgo serve demo` works out of the box. A program that imports only
// package wsgi registers neither.
package apps
