// Package ci tests the scripts under .ci that CI runs, and what CI keeps
// true of the whole module, such as the direction of imports between its
// packages; it has no code of its own.
package ci
