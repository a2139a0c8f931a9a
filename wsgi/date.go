package wsgi

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dates is the Date header of every gateway's responses. net/http formats
// one for each response that comes without, which under load cost as much
// as writing the rest of its headers; the gateway formats it once a second
// instead, and sends what net/http would have.
var dates dateCache

// A dateCache holds the Date header's value for the latest second it was
// asked for.
type dateCache struct{ last atomic.Pointer[dated] }

type dated struct {
	unix  int64
	value string
}

// header returns the value of a Date header sent at now, as net/http
// writes it (RFC 9110's IMF-fixdate). The string is shared; each response
// has its own slice of values to hold it, which a handler may change.
func (c *dateCache) header(now time.Time) string {
	sec := now.Unix()
	if d := c.last.Load(); d != nil && d.unix == sec {
		return d.value
	}
	d := &dated{unix: sec, value: now.UTC().Format(http.TimeFormat)}
	c.last.Store(d)
	return d.value
}
