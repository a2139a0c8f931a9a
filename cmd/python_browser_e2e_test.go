//go:build unix

package cmd

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wsgo/wsgo/internal/testkit"
)

const flaskPage = `from flask import Flask, render_template

app = Flask(__name__)

MESSAGE = %q


@app.route("/")
def page():
    return render_template("page.html", message=MESSAGE)
`

// TestBrowserFlaskPage: an open tab of a Flask page follows a save of the
// view, shows the traceback of an import that fails and comes back by
// itself once a save fixes it, and takes a stylesheet in place.
func TestBrowserFlaskPage(t *testing.T) {
	py := needPython(t, "flask")
	ctx := browser(t)
	dir := testkit.Tree(t, map[string]string{
		"app.py":              fmt.Sprintf(flaskPage, "version 0"),
		"templates/page.html": `<html><head><link rel="stylesheet" href="/static/site.css"></head><body><h1 id="msg">{{ message }}</h1><input id="name"></body></html>`,
		"static/site.css":     "h1 { color: rgb(200, 0, 0); }",
	})
	s := servePy(t, dir, "app.py", "--python", py, "--port", "0")
	msg := `(document.getElementById("msg") || {}).textContent === %q`
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "version 0", fmt.Sprintf(msg, "version 0"))

	testkit.WriteFile(t, filepath.Join(dir, "app.py"), fmt.Sprintf(flaskPage, "version 1"))
	waitFor(t, ctx, "the save", fmt.Sprintf(msg, "version 1"))

	testkit.WriteFile(t, filepath.Join(dir, "app.py"), strings.Replace(fmt.Sprintf(flaskPage, "x"), "def page():", "def page(:", 1))
	if !t.Run("syntax error", func(t *testing.T) {
		waitFor(t, ctx, "the syntax error", `document.body.innerText.includes("SyntaxError") && !!document.querySelector("mark")`)
	}) {
		t.Fatalf("wsgo said:\n%s", s.stderr)
	}

	testkit.WriteFile(t, filepath.Join(dir, "app.py"), fmt.Sprintf(flaskPage, "fixed, and back by itself"))
	waitFor(t, ctx, "the fix", fmt.Sprintf(msg, "fixed, and back by itself"))

	color := `getComputedStyle(document.getElementById("msg")).color === %q`
	waitFor(t, ctx, "the first style", fmt.Sprintf(color, "rgb(200, 0, 0)"))
	if err := chromedp.Do(ctx, chromedp.SendKeys("#name", "Ada")); err != nil {
		t.Fatal(err)
	}
	testkit.WriteFile(t, filepath.Join(dir, "static/site.css"), "h1 { color: rgb(0, 0, 200); }")
	waitFor(t, ctx, "the new style", fmt.Sprintf(color, "rgb(0, 0, 200)"))
	waitFor(t, ctx, "the input kept", `document.getElementById("name").value === "Ada"`)
}
