package python

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
)

// BenchmarkDemo serves the tutorial's demo app through the gateway (no
// network: a recorder), as many requests at once as GOMAXPROCS allows
// times 4, for each worker model. Compare with gunicorn's sync workers:
//
//	go test -run XXX -bench Demo -benchtime 20000x ./python
func BenchmarkDemo(b *testing.B) {
	needPython(b)
	dir := b.TempDir()
	if err := writeFile(dir, "demo.py", demoApp); err != nil {
		b.Fatal(err)
	}
	for _, opts := range []Options{{Threads: 1}, {Workers: 2, Threads: 1}, {Threads: 4}, {Workers: 2, Threads: 4}} {
		b.Run(fmt.Sprintf("workers=%d/threads=%d", max(opts.Workers, 1), opts.Threads), func(b *testing.B) {
			opts.Dir = dir
			tg, _ := ParseTarget("demo.py")
			a, err := Start(b.Context(), tg, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			g := &wsgi.Gateway{App: a, Log: wsgi.LogTo(log.New(io.Discard, "", 0))}
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					g.ServeHTTP(rec, httptest.NewRequest("GET", "/get/prefix?ip=", nil))
					if rec.Code != 200 {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
