//go:build !unix

package control

// redirectOutput does nothing where reload does not run.
func redirectOutput(fd int) {}
