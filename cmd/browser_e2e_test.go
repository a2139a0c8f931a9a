//go:build unix

package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	greeterpkg "github.com/wsgo/wsgo/internal/greeter"
)

// chromium finds the browser, or skips the test; where CI promises one
// (WSGO_NO_SKIP), a missing browser is a failure instead.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("WSGO_NO_SKIP") != "" {
		t.Fatal("no Chromium on PATH, and WSGO_NO_SKIP is set: install it (apt-get install chromium)")
	}
	t.Skip("no Chromium on PATH: apt-get install chromium to run the browser test")
	return ""
}

func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 700),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// waitFor polls the page, without acting on it, until expr is true. The
// page reloads itself meanwhile, so a failed evaluation is tried again.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	for i := 0; i < 1800; i++ {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	t.Fatalf("the page never showed %s\npage text: %s", what, text)
}

// screenshot saves the page under WSGO_SCREENSHOTS, when it is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("WSGO_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	// Written when the test is over: docs/ is in the tree a test's server
	// watches (the test module replaces wsgo with this checkout), and a new
	// image there is an asset that reloads the pages.
	t.Cleanup(func() {
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Error(err)
		}
	})
}

// TestBrowserLiveReload opens a page in a real Chromium, then edits, breaks
// and fixes the source; the page follows by itself each time.
func TestBrowserLiveReload(t *testing.T) {
	e2e(t)
	ctx := browser(t)
	g := newGreeter(t)
	s := g.serve(t)

	msg := `(document.getElementById("msg") || {}).textContent === %q`
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/page")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "version 0", fmt.Sprintf(msg, "version 0"))

	g.write(t, "message.go", messageGo("version 1"))
	waitFor(t, ctx, "the edit", fmt.Sprintf(msg, "version 1"))

	g.write(t, "message.go", "package main\n\nconst message = \n")
	waitFor(t, ctx, "the compiler error", `document.body.innerText.includes("syntax error") && !!document.querySelector("mark")`)
	screenshot(t, ctx, "reload-error.png")

	g.write(t, "message.go", messageGo("fixed, and reloaded by itself"))
	waitFor(t, ctx, "the fix", fmt.Sprintf(msg, "fixed, and reloaded by itself"))
	screenshot(t, ctx, "reload-page.png")
}

// TestBrowserTabsShareOneStream opens the page in two tabs: neither opens
// an event stream of its own (the SharedWorker holds the one stream), and
// both reload by themselves after an edit.
func TestBrowserTabsShareOneStream(t *testing.T) {
	e2e(t)
	first := browser(t)
	g := newGreeter(t)
	s := g.serve(t)

	var ownStreams atomic.Int32
	countStreams := func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, "/__wsgo/events") {
			ownStreams.Add(1)
		}
	}
	msg := `(document.getElementById("msg") || {}).textContent === %q`
	open := func(tab context.Context) {
		t.Helper()
		if err := chromedp.Listen(tab, countStreams); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tab, chromedp.Navigate(s.url+"/page")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, tab, "version 0", fmt.Sprintf(msg, "version 0"))
	}
	open(first)
	// A second tab in the same browser: the context is made once the first
	// has started the browser, or it would start a browser of its own.
	second, cancel := chromedp.NewContext(first)
	defer cancel()
	open(second)
	if shared, _ := chromedp.Run(first, chromedp.Evaluate[bool](`typeof SharedWorker === "function"`)); !shared {
		t.Skip("this Chromium has no SharedWorker")
	}

	g.write(t, "message.go", messageGo("both tabs"))
	for _, tab := range []context.Context{first, second} {
		waitFor(t, tab, "the edit", fmt.Sprintf(msg, "both tabs"))
	}
	if n := ownStreams.Load(); n != 0 {
		t.Errorf("the tabs opened %d event streams of their own; the shared worker should hold the only one", n)
	}
}

// TestBrowserStylesheetSwapsInPlace: an edit of a stylesheet the program
// reads at run time changes the page's style without a navigation (a
// variable the page set survives) and without a build; a template-like
// asset reloads the page.
func TestBrowserStylesheetSwapsInPlace(t *testing.T) {
	e2e(t)
	ctx := browser(t)
	g := newGreeter(t)
	g.write(t, "style.css", "h1 { color: rgb(200, 0, 0); }")
	s := g.serve(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/styled")); err != nil {
		t.Fatal(err)
	}
	color := `getComputedStyle(document.getElementById("msg")).color === %q`
	waitFor(t, ctx, "the first style", fmt.Sprintf(color, "rgb(200, 0, 0)"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.wsgoMarker = 42) === 42`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#name", "Ada")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "styles-before.png")
	g.write(t, "style.css", "h1 { color: rgb(0, 0, 200); font-style: italic; }")
	waitFor(t, ctx, "the new style", fmt.Sprintf(color, "rgb(0, 0, 200)"))
	waitFor(t, ctx, "the same page", `window.wsgoMarker === 42`)
	waitFor(t, ctx, "the input kept", `document.getElementById("name").value === "Ada"`)
	screenshot(t, ctx, "styles-after.png")
	s.waitForOutput(t, "style.css changed: reloading the stylesheets, no build")
	if strings.Contains(s.stderr.String(), "changed: building") {
		t.Errorf("a stylesheet edit built:\n%s", s.stderr)
	}
	// Any other asset reloads the page: the variable is gone.
	g.write(t, "page.html", "<p>an asset")
	waitFor(t, ctx, "a reload", `window.wsgoMarker === undefined && !!document.getElementById("msg")`)
}

// templateGo is a page of the greeter's rendered from templates/page.html,
// read from disk at every request, as a template an app parses at run time.
const templateGo = `package main

import (
	"iter"
	"os"

	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	page := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		html, _ := os.ReadFile("templates/page.html")
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html; charset=utf-8"}, {Name: "Cache-Control", Value: "no-store"}})
		return wsgi.Body(html)
	})
	wsgi.Register("template", page)
}
`

// withTemplate adds the app "template" to the greeter, rendering
// templates/page.html, which says text.
func (g *greeter) withTemplate(t *testing.T, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(g.dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	g.write(t, "templates/page.html", templatePage(text))
	g.write(t, "template.go", templateGo)
	if err := greeterpkg.Go(g.dir, "build", "-o", g.bin, "."); err != nil {
		t.Fatal(err)
	}
}

func templatePage(text string) string {
	return `<!doctype html><html><head><title>template</title></head><body><p id="msg">` + text + `</p></body></html>`
}

// TestBrowserTemplateEditReloadsWithoutABuild: an edit of a template the
// program reads at run time reloads the page (a variable the page set is
// gone, the new text shows) and builds nothing: the log says so, and no
// new server started.
func TestBrowserTemplateEditReloadsWithoutABuild(t *testing.T) {
	e2e(t)
	ctx := browser(t)
	g := newGreeter(t)
	g.withTemplate(t, "first")
	c := g.command("serve", "template", "--port", "0")
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	msg := `(document.getElementById("msg") || {}).textContent === %q`
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the first text", fmt.Sprintf(msg, "first"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.wsgoMarker = 42) === 42`)); err != nil {
		t.Fatal(err)
	}
	servers := len(s.pids())
	g.write(t, "templates/page.html", templatePage("edited"))
	waitFor(t, ctx, "the edit, on a reloaded page", fmt.Sprintf(msg, "edited")+` && window.wsgoMarker === undefined`)
	s.waitForOutput(t, "templates/page.html changed: reloading the pages, no build")
	if strings.Contains(s.stderr.String(), "changed: building") || len(s.pids()) != servers {
		t.Errorf("a template edit built or started a server:\n%s", s.stderr)
	}
}

// TestBrowserReloadsWhilePolling: with --poll, where no file event is
// listened to, an edit is still found, built, and the page reloads itself.
func TestBrowserReloadsWhilePolling(t *testing.T) {
	e2e(t)
	ctx := browser(t)
	g := newGreeter(t)
	s := g.serve(t, "--poll")
	s.waitForOutput(t, "Watching by polling every 1s (--poll)")
	msg := `(document.getElementById("msg") || {}).textContent === %q`
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/page")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "version 0", fmt.Sprintf(msg, "version 0"))
	g.write(t, "message.go", messageGo("found by polling"))
	waitFor(t, ctx, "the edit", fmt.Sprintf(msg, "found by polling"))
}

// lineOf returns the number of the first line of file that holds s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

// TestBrowserPanicPage: a panic's page shows the user's frame first, with
// its source line marked and a link that opens it in the editor --editor
// names; no frame of wsgo's comes before it, and the rest of the stack is
// folded away until asked for; "Copy as text" copies the report. The
// terminal has the user's frames, each with its line of source, and none of
// wsgo's.
func TestBrowserPanicPage(t *testing.T) {
	e2e(t)
	ctx := browser(t)
	g := newGreeter(t)
	s := g.serve(t, "--editor", "cursor")
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: s.url,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/panic")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the panic page", `!!document.querySelector("#frames .frame")`)
	mainGo := filepath.Join(g.dir, "main.go")
	line := lineOf(t, mainGo, `panic("greeter exploded: " + msg)`)

	type firstFrame struct {
		Fn, Href, Hit string
		Frames        int
		Before        string // the page's text above the first frame
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[firstFrame](`(() => {
		const f = document.querySelector("#frames .frame");
		const text = document.body.innerText;
		return {
			Fn: f.querySelector(".fn").textContent,
			Href: f.querySelector("a.loc").getAttribute("href"),
			Hit: f.querySelector(".src .hit").textContent,
			Frames: document.querySelectorAll("#frames .frame").length,
			Before: text.slice(0, text.indexOf(f.innerText.split("\n")[0])),
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if first.Fn != "main.explode" || first.Frames != 2 {
		t.Errorf("the first of %d frames is %q, want main.explode, of 2", first.Frames, first.Fn)
	}
	if want := fmt.Sprintf("cursor://file%s:%d", mainGo, line); first.Href != want {
		t.Errorf("the editor link is %q, want %q", first.Href, want)
	}
	if want := fmt.Sprintf("%d\tpanic(\"greeter exploded: \" + msg)", line); first.Hit != want {
		t.Errorf("the marked source line is %q, want %q", first.Hit, want)
	}
	if strings.Contains(first.Before, "github.com/wsgo/wsgo") || !strings.Contains(first.Before, "panic: greeter exploded: version 0") {
		t.Errorf("above the user's frame:\n%s", first.Before)
	}
	folded := `(() => { const d = document.querySelector("details#stack"); return !!d && d.textContent.includes("github.com/wsgo/wsgo/wsgi.(*Gateway).ServeHTTP") && d.textContent.includes("net/http.(*conn).serve") && d.open === %[1]s && d.querySelector("ol").checkVisibility() === %[1]s; })()`
	waitFor(t, ctx, "the folded stack", fmt.Sprintf(folded, "false"))
	screenshot(t, ctx, "panic-page.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("details#stack summary"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the unfolded stack", fmt.Sprintf(folded, "true"))

	copied, report := copyReport(t, ctx)
	if copied != report || !strings.HasPrefix(copied, "500 Internal Server Error: app \"greet\" failed\n\npanic: greeter exploded: version 0\n\nGET /panic\n\nmain.explode\n\t"+mainGo) {
		t.Errorf("copied:\n%s\nthe report:\n%s", copied, report)
	}

	s.waitForOutput(t, fmt.Sprintf("    main.explode\n        main.go:%d\n        %d | panic(\"greeter exploded: \" + msg)\n    main.init.0.func1\n", line, line))
	s.waitForOutput(t, "frames of wsgo, Go and dependencies: on the error page)")
	if strings.Contains(s.stderr.String(), "wsgi.(*Gateway).ServeHTTP") {
		t.Errorf("the terminal shows wsgo's frames:\n%s", s.stderr)
	}
}

// copyReport clicks "Copy as text" and returns what the clipboard then
// holds and the report on the page.
func copyReport(t *testing.T, ctx context.Context) (copied, report string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#copy"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the copy", `document.getElementById("copied").textContent === "Copied."`)
	type result struct{ Copied, Report string }
	r, err := chromedp.Run(ctx, chromedp.Evaluate[result](`navigator.clipboard.readText().then(c => ({Copied: c, Report: document.getElementById("report").value}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return r.Copied, r.Report
}

// TestBrowserBuildErrorPage: the page of a failed build shows the source
// around the compiler's position, in a package below the module's root,
// that line marked and linked to the editor, when wsgo runs in a directory
// below the root.
func TestBrowserBuildErrorPage(t *testing.T) {
	e2e(t)
	ctx := browser(t)
	g := newGreeter(t)
	if err := os.Mkdir(filepath.Join(g.dir, "words"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := g.serveIn(t, filepath.Join(g.dir, "words"), nil, "--editor", "vscode")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/page")); err != nil {
		t.Fatal(err)
	}
	g.write(t, "words/words.go", "package words\n\n// Greeting is what the greeter says.\nconst Greeting = \"from a package\"\n")
	g.write(t, "message.go", "package main\n\nimport \"example.com/greeter/words\"\n\nconst message = words.Greeting\n")
	msg := `(document.getElementById("msg") || {}).textContent === "from a package"`
	waitFor(t, ctx, "the page", msg)

	g.write(t, "words/words.go", "package words\n\n// Greeting is what the greeter says.\nconst Greeting = \"from a package\" + notDefined\n\n// More is more.\nconst More = 1\n")
	file := filepath.Join(g.dir, "words", "words.go")
	waitFor(t, ctx, "the source excerpt", fmt.Sprintf(`(() => {
		const f = document.querySelector(".frame");
		return !!f && f.querySelector("a.loc").getAttribute("href") === %q
			&& f.querySelector(".src .hit").textContent === "4const Greeting = \"from a package\" + notDefined"
			&& f.querySelector(".src").textContent.includes("Greeting is what the greeter says")
			&& !!document.querySelector("pre a mark");
	})()`, "vscode://file"+file+":4"))
	screenshot(t, ctx, "build-error.png")

	g.write(t, "words/words.go", "package words\n\nconst Greeting = \"fixed\"\n")
	waitFor(t, ctx, "the fix", `(document.getElementById("msg") || {}).textContent === "fixed"`)
}
