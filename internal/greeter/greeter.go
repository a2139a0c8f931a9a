// Package greeter writes a small module that uses wsgo, for the end-to-end
// tests and benchmarks of reload: an app "greet" that answers with the text
// in message.go, so that an edit to that file is easy to see in a response.
// /page answers the same text as an HTML page, /styled one whose
// stylesheet /style.css is read from style.css at run time, /no-type leaves out the
// Content-Type the contract requires, /panic panics in a helper, /slow waits until the request is
// cancelled, and /exit ends the server.
package greeter

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
)

const mainGo = `package main

import (
	"fmt"
	"iter"
	"os"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/cmd"
)

func init() {
	wsgi.Register("greet", wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		switch env.PathInfo() {
		case "/exit":
			os.Exit(3)
		case "/slow": // answers when the client or the server gives up
			fmt.Fprintln(env.Errors(), "slow request started")
			<-env.Context().Done()
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return wsgi.BodyString("slow")
		case "/panic": // panics a level below the app
			explode(message)
		case "/no-type": // breaks a rule the validator enforces
			start("200 OK", nil)
			return wsgi.BodyString(message)
		case "/styled": // a page whose stylesheet is read from disk
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html; charset=utf-8"}})
			return wsgi.BodyString("<!doctype html><html><head><link rel=\"stylesheet\" href=\"/style.css\"></head><body><h1 id=\"msg\">", message, "</h1><p><label>Your name <input id=\"name\"></label></p></body></html>")
		case "/style.css":
			css, _ := os.ReadFile("style.css")
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/css"}, {Name: "Cache-Control", Value: "no-store"}})
			return wsgi.Body(css)
		case "/page":
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html; charset=utf-8"}})
			return wsgi.BodyString("<!doctype html><html><head><title>greeter</title></head><body><h1 id=\"msg\">", message, "</h1></body></html>")
		}
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return wsgi.BodyString(message)
	}))
}

// explode panics with msg.
func explode(msg string) {
	panic("greeter exploded: " + msg)
}

func main() { cmd.Execute() }
`

// Message returns the source of message.go saying msg.
func Message(msg string) string {
	return fmt.Sprintf("package main\n\nconst message = %q\n", msg)
}

// Write creates the module in dir, using the wsgo checkout at repo, with
// message.go saying msg.
func Write(dir, repo, msg string) error {
	gomod := fmt.Sprintf("module example.com/greeter\n\ngo 1.25\n\nrequire github.com/wsgo/wsgo v0.0.0\n\nreplace github.com/wsgo/wsgo => %s\n", repo)
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		return err
	}
	for name, content := range map[string]string{
		"go.mod": gomod, "go.sum": string(sum), "main.go": mainGo, "message.go": Message(msg),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return Go(dir, "mod", "tidy")
}

// Go runs the go command in dir, letting it complete go.mod as needed.
func Go(dir string, args ...string) error {
	c := exec.Command("go", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v: %w\n%s", args, err, out)
	}
	return nil
}

// Fetch gets url and returns the status and the whole body.
func Fetch(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Bench makes the greeter module saying msg in a new temporary directory,
// for a benchmark run from the root of the wsgo checkout, and returns the
// directory (remove it when done) and the module's.
func Bench(msg string) (work, mod string, err error) {
	repo, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	work, err = os.MkdirTemp("", "wsgo-bench-")
	if err != nil {
		return "", "", err
	}
	mod = filepath.Join(work, "greeter")
	if err := os.Mkdir(mod, 0o755); err != nil {
		os.RemoveAll(work)
		return "", "", err
	}
	if err := Write(mod, repo, msg); err != nil {
		os.RemoveAll(work)
		return "", "", err
	}
	return work, mod, nil
}
