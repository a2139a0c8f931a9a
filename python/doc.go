// Package python runs Python WSGI apps (PEP 3333) as wsgi.App: Go speaks
// HTTP, and Python worker processes only run the app.
//
// [Start] starts the workers for a [Target] (a file or module and its
// callable, as gunicorn names them: "app.py", "mysite.wsgi:application",
// "shop:create_app()") and returns once each has imported the app, or a
// [*LoadError] that says why it could not. The [*App] it returns is a
// wsgi.App: a wsgi.Gateway serves it as it serves a Go app, with the same
// environ, the same start_response rules, logs and error pages. An exception
// the Python app raises reaches the gateway as an [*Exception], a
// wsgi.Traceback, so that the development server shows its Python frames.
//
// Each worker is a process of the interpreter [FindInterpreter] picks,
// running a single stdlib-only Python file embedded in this package, with a
// thread for each request it serves at once. Go and a worker thread talk
// over a Unix socket pair in compact length-prefixed frames; this package
// holds both halves of that protocol, versioned by [ProtocolVersion].
// docs/python.md specifies it.
//
// Workers die with the program (a process group each, and on Linux the
// parent-death signal), and a worker that dies while the app serves is
// replaced.
package python
