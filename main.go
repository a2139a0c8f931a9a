// Command wsgo is a development server for WSGI-style Go apps: it serves
// registered apps by name and rebuilds and swaps the server on every save.
package main

import (
	_ "github.com/wsgo/wsgo/apps" // the built-in apps, demo and hello
	"github.com/wsgo/wsgo/cmd"
)

func main() {
	cmd.Execute()
}
