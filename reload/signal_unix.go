//go:build unix

package reload

import "syscall"

// HandoverSignal asks a server to stop accepting and hand its clients over
// to the next server on the same socket; SIGTERM asks it to stop.
const HandoverSignal = syscall.SIGUSR1

// Supported reports whether this system can run a Supervisor.
const Supported = true
