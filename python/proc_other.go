//go:build !unix

package python

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
)

var errUnsupported = errors.New("Python apps are served on Linux and macOS only: their workers talk over Unix socket pairs")

func socketPairs(n int) ([]net.Conn, []*os.File, error) { return nil, nil, errUnsupported }

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

func waitPid(pid int) {}

func forkWorker(ctx context.Context, socket string, config workerConfig, files []*os.File) (int, error) {
	return 0, errNoPreload
}
