// Package gobuild is everything of wsgo's that knows the go command:
// building a program for the supervisor (a reload.Builder), the build id
// that says two builds are the same program, the files //go:embed pulls in,
// the modules a build reads from disk (replaced and workspace modules), and
// the main package generated for a user's module, whose apps it finds.
// What counts as Go source for a watcher is its Rules.
package gobuild

import (
	"bytes"
	"cmp"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgo/wsgo/internal/scratch"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/reload/watch"
)

// Builder builds a Source with the go command. Everything the build
// writes, its output and the go command's own work directories (through
// TMPDIR), stays in one temporary directory that Close removes, so that a cancelled or killed
// build leaves nothing behind; a directory left by a wsgo that was killed
// is removed by the next wsgo (see internal/scratch).
type Builder struct {
	Source Source
	Flags  []string // extra go build flags, such as -ldflags=-w
	Args   []string // the arguments each server runs with
	// Watcher, if set, learns which files //go:embed pulls into the build.
	Watcher *watch.Watcher
	// Before, if set, runs before each build; an error fails the build.
	Before func() error
	// Name is how messages name the build: "go build PACKAGE" if empty.
	Name string

	dir string
	n   atomic.Int64
	// The lookups for //go:embed files under way: Close stops them and
	// waits, so that no go command outlives the builder.
	lookups sync.WaitGroup
	stop    context.Context
	cancel  context.CancelFunc
}

// NewBuilder returns a Builder for src with its temporary directory.
func NewBuilder(src Source) (*Builder, error) {
	dir, err := scratch.Dir()
	if err != nil {
		return nil, fmt.Errorf("gobuild: build directory: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("gobuild: build directory: %w", err)
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Builder{Source: src, dir: dir, stop: stop, cancel: cancel}, nil
}

// Dir is the builder's temporary directory, for files the build reads
// that belong to no module (an -overlay's), removed with it.
func (b *Builder) Dir() string { return b.dir }

// Close stops the lookups for //go:embed files under way and waits for
// them, then removes everything the builder wrote.
func (b *Builder) Close() error {
	b.cancel()
	b.lookups.Wait()
	return os.RemoveAll(b.dir)
}

// FindEmbeds tells the Watcher, in the background, which files //go:embed
// pulls into the build: a go list as long as a small build, which nothing
// need wait for. Close stops it.
func (b *Builder) FindEmbeds() {
	if b.Watcher == nil {
		return
	}
	b.lookups.Add(1)
	go func() {
		defer b.lookups.Done()
		if files := b.Source.Embeds(b.stop); b.stop.Err() == nil {
			b.Watcher.SetBuildFiles(files)
		}
	}()
}

// Build runs go build. The output path stays the same from build to build,
// so that the go command skips the link when nothing it reads changed; the
// program to run is a hard link of its own, for the supervisor to remove.
func (b *Builder) Build(ctx context.Context) (*reload.Program, error) {
	exe, err := b.build(ctx)
	if err != nil {
		return nil, err
	}
	return &reload.Program{Argv: append([]string{exe}, b.Args...), ID: ProgramID(exe), Temporary: true}, nil
}

// build returns the path of a fresh binary.
func (b *Builder) build(ctx context.Context) (string, error) {
	if b.Before != nil {
		if err := b.Before(); err != nil {
			return "", fmt.Errorf("gobuild: before the build: %w", err)
		}
	}
	out := filepath.Join(b.dir, "program")
	args := append([]string{"build", "-o", out}, b.Flags...)
	args = append(args, b.Source.Package)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.Source.Root
	// TMPDIR, not GOTMPDIR: the go command puts GOTMPDIR into the link's
	// build id, so that no link could ever be skipped.
	cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(b.dir, "work"))
	interruptible(cmd)
	cmd.WaitDelay = 5 * time.Second // then it is killed
	output, err := cmd.CombinedOutput()
	if cmd.Process != nil {
		killGroup(cmd.Process.Pid) // anything it left behind
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", &reload.BuildError{Command: cmp.Or(b.Name, "go build "+b.Source.Package), Output: string(output)}
	}
	exe := filepath.Join(b.dir, "server-"+strconv.FormatInt(b.n.Add(1), 10))
	if err := os.Link(out, exe); err != nil {
		return "", fmt.Errorf("gobuild: %w", err)
	}
	b.FindEmbeds()
	return exe, nil
}

// goBuildPrefix starts the build id the go command writes near the start of
// non-ELF binaries (cmd/internal/buildid reads it the same way).
var goBuildPrefix = []byte("\xff Go build ID: \"")

// ProgramID returns the go build id of the binary at path, or "" if it has
// none. Two binaries with the same id are the same program.
func ProgramID(path string) string {
	if f, err := elf.Open(path); err == nil {
		defer f.Close()
		return elfBuildID(f)
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	n, _ := io.ReadFull(f, buf)
	buf = buf[:n]
	i := bytes.Index(buf, goBuildPrefix)
	if i < 0 {
		return ""
	}
	id := buf[i+len(goBuildPrefix):]
	end := bytes.IndexByte(id, '"')
	if end < 0 {
		return ""
	}
	return string(id[:end])
}

// elfBuildID reads the note the go command writes into ELF binaries:
// name "Go", type 4, the build id as its description.
func elfBuildID(f *elf.File) string {
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	bo := f.ByteOrder
	namesz, descsz, typ := bo.Uint32(data), bo.Uint32(data[4:]), bo.Uint32(data[8:])
	if namesz != 4 || typ != 4 || string(data[12:16]) != "Go\x00\x00" || int(16+descsz) > len(data) {
		return ""
	}
	return string(data[16 : 16+descsz])
}

// Rules are what counts as Go source for a watcher: the files go build
// reads (.go files but tests, go.mod, go.sum, go.work), never what is below
// directories the go command ignores (_x, testdata) or that hold no Go
// (node_modules, tmp); and the assets a Go web app commonly reads at run
// time. Files //go:embed pulls in count too, through Builder.Watcher.
var Rules = watch.Rules{
	Source: func(name string) bool {
		switch {
		case name == "go.mod", name == "go.sum", name == "go.work", name == "go.work.sum":
			return true
		case strings.HasSuffix(name, ".go"):
			return !strings.HasSuffix(name, "_test.go")
		}
		return false
	},
	SkipDir: func(dir string) bool {
		name := filepath.Base(dir)
		return strings.HasPrefix(name, "_") || name == "node_modules" || name == "tmp" || name == "testdata"
	},
	Assets: []string{"*.html", "*.tmpl", "*.gohtml", "*.css", "*.js", "*.png", "*.jpg", "*.jpeg", "*.gif", "*.svg", "*.ico", "*.webp"},
}
