package reload

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// The environment a supervisor gives each server process.
const (
	// EnvSupervised marks a server process started by a Supervisor.
	EnvSupervised = "WSGO_SUPERVISED"
	// EnvReadyFD names the descriptor a server writes to once it serves.
	EnvReadyFD = "WSGO_READY_FD"
	// EnvBuildError carries the failure an error-page server shows.
	EnvBuildError = "WSGO_BUILD_ERROR"
	// EnvBuildID names the build a server process runs, unique to each start,
	// so that pages can tell a new server from the one that served them.
	EnvBuildID = "WSGO_BUILD_ID"
)

// listenFD is the first descriptor passed under the LISTEN_FDS convention
// (sd_listen_fds(3)): 0, 1 and 2 are the standard streams.
const listenFD = 3

// Listener returns the listening socket passed to this process under the
// LISTEN_FDS convention, by a Supervisor or by systemd socket activation, or
// nil if none was passed. It unsets the variables, so that processes this one
// starts do not take the socket for theirs.
func Listener() (net.Listener, error) {
	fds := os.Getenv("LISTEN_FDS")
	if fds == "" {
		return nil, nil
	}
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return nil, nil // meant for another process
	}
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDNAMES")
	if n, err := strconv.Atoi(fds); err != nil || n < 1 {
		return nil, fmt.Errorf("reload: LISTEN_FDS=%q: want the number of sockets passed, at least 1", fds)
	}
	f := os.NewFile(listenFD, "listener")
	defer f.Close() // FileListener holds a duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("reload: socket passed as fd %d: %w", listenFD, err)
	}
	return ln, nil
}

// Supervised reports whether this process is a server a Supervisor started.
func Supervised() bool { return os.Getenv(EnvSupervised) != "" }

// Ready tells the supervisor that this server is serving, so that it can
// drain the previous one. Outside a supervisor it does nothing.
func Ready() error {
	s := os.Getenv(EnvReadyFD)
	if s == "" {
		return nil
	}
	os.Unsetenv(EnvReadyFD)
	fd, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("reload: %s=%q is not a descriptor", EnvReadyFD, s)
	}
	f := os.NewFile(uintptr(fd), "ready")
	defer f.Close()
	if _, err := f.Write([]byte("ready\n")); err != nil {
		return fmt.Errorf("reload: telling the supervisor we are ready: %w", err)
	}
	return nil
}

// BuildID returns the id of the build this supervised server runs, or "".
func BuildID() string { return os.Getenv(EnvBuildID) }
