package python_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wsgo/wsgo/python"
	"github.com/wsgo/wsgo/wsgi"
)

// A Python app served by Go: the target is read as gunicorn reads one,
// the workers import it, and wsgi.Handler serves it.
func Example() {
	target, err := python.ParseTarget("app.py:app")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := python.Start(ctx, target, python.Options{Dev: true})
	if err != nil {
		log.Fatal(err) // a *python.LoadError, which says what to do
	}
	defer app.Close()
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", wsgi.Handler(app)))
}

// Targets name a file or a module, and the callable in it.
func ExampleParseTarget() {
	for _, s := range []string{"app.py", "mysite.wsgi:application", `shop:create_app("dev")`} {
		t, err := python.ParseTarget(s)
		fmt.Printf("%-26q file=%q module=%q name=%q call=%v args=%q (err %v)\n", s, t.File, t.Module, t.Name, t.Call, t.Args, err)
	}
	fmt.Println(python.IsTarget("app.py"), python.IsTarget("demo"))
	// Output:
	// "app.py"                   file="app.py" module="" name="" call=false args="" (err <nil>)
	// "mysite.wsgi:application"  file="" module="mysite.wsgi" name="application" call=false args="" (err <nil>)
	// "shop:create_app(\"dev\")" file="" module="shop" name="create_app" call=true args="\"dev\"" (err <nil>)
	// true false
}

// A swap, as a reload does it: start the new version beside the old one,
// send new requests to it, then let the old one finish its requests.
func ExampleApp_Shutdown() {
	var current atomic.Pointer[python.App] // what the server sends requests to
	swap := func(target python.Target) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		next, err := python.Start(ctx, target, python.Options{Dev: true})
		if err != nil {
			return err // the old version keeps serving; show the error
		}
		old := current.Swap(next)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			old.Shutdown(ctx)
		}()
		return nil
	}
	_ = swap
}
