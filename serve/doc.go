// Package serve runs wsgo apps as a server: a Server whose drain loses no
// request it accepted and whose hand-over moves keep-alive clients to the
// next server on the same socket, and Main, the entry point of a program
// built by wsgo build, which serves a module's apps in production.
//
// It holds nothing for development (no live reload, no detailed error
// pages, no rebuilds): those are devserver's and reload's.
package serve
