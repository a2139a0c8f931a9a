//go:build unix

package python

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// forkWorker asks the preloader at socket to fork a worker with config and
// the descriptors files (config's descriptors are indexes into files), and
// returns its pid.
func forkWorker(ctx context.Context, socket string, config workerConfig, files []*os.File) (int, error) {
	if !preloaderReady(socket) {
		return 0, errNoPreload
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	msg, _ := json.Marshal(config)
	if _, _, err := conn.(*net.UnixConn).WriteMsgUnix(msg, syscall.UnixRights(fds...), nil); err != nil {
		return 0, err
	}
	var answer struct {
		Pid   int    `json:"pid"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(conn).Decode(&answer); err != nil {
		return 0, fmt.Errorf("the preloader did not answer: %w", err)
	}
	if answer.Error != "" {
		return 0, errors.New(answer.Error)
	}
	return answer.Pid, nil
}
