//go:build !unix

package reload

// redirectOutput does nothing where reload does not run.
func redirectOutput(fd int) {}
