// Package ci tests the scripts under .ci that CI runs; it has no code of
// its own.
package ci
