//go:build !unix

package reload

import (
	"context"
	"errors"
)

// Supported reports whether this system can run a Supervisor.
const Supported = false

// Run fails: reload needs Unix process groups and signals. wsgo serves
// without it on other systems.
func (s *Supervisor) Run(ctx context.Context) error {
	return errors.New("reload: this system is not supported (Linux and macOS are); use --no-reload")
}
