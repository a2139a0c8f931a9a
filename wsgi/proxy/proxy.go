// Package proxy believes what trusted reverse proxies say about a request,
// as Werkzeug's ProxyFix does: behind nginx every request comes from
// nginx's address, over nginx's scheme, and the client's own address,
// scheme, host and path prefix arrive in headers that nginx sets. [Trust]
// moves them into the environ, but only when the request comes from a proxy
// the server was told to trust; from anyone else the headers are left for
// what they are, a client's claim.
//
// Of X-Forwarded-For (or the for= of RFC 7239 Forwarded), each proxy adds
// the address it received the request from, so the list is read from the
// right: trusted proxies are stepped over, and the first address that is
// not trusted is the client's. Whatever a client wrote at the left of the
// list is never reached while a trusted proxy appends the address it saw.
//
// A trusted proxy must set, or delete, every header of the family it uses:
// a header it passes on untouched is the client's.
package proxy

import (
	"fmt"
	"iter"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// PeerKey is the environ key that keeps REMOTE_ADDR as the server saw it
// (the nearest proxy's address) when [Trust] replaced it.
const PeerKey = "wsgo.proxy.peer"

// Trust returns app with REMOTE_ADDR, wsgi.url_scheme, HTTP_HOST,
// SERVER_NAME, SERVER_PORT and SCRIPT_NAME taken from X-Forwarded-For,
// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix, on requests
// whose REMOTE_ADDR is in one of the trusted prefixes. Forwarded (RFC 7239)
// is ignored: see [Config] to read it instead.
func Trust(app wsgi.App, trusted ...netip.Prefix) wsgi.App {
	return Config{Trusted: trusted}.Wrap(app)
}

// Config says whom to trust, and which headers they set.
type Config struct {
	// Trusted are the proxies' addresses. A request from anywhere else is
	// passed on as it came.
	Trusted []netip.Prefix
	// Forwarded reads RFC 7239's Forwarded header (for=, proto=, host=)
	// and ignores X-Forwarded-*; by default it is the other way round. Only
	// one family is read, so that a client cannot slip in the one the proxy
	// does not set.
	Forwarded bool
}

// Wrap returns app behind c's trust.
func (c Config) Wrap(app wsgi.App) wsgi.App {
	return wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		c.apply(env)
		return app.ServeWSGI(env, start)
	})
}

// A hop is what one proxy says about the request it received.
type hop struct {
	addr                string // the address it received the request from
	port                string // that address's port, if it says
	proto, host, prefix string
}

func (c Config) apply(env wsgi.Environ) {
	peer := env.RemoteAddr()
	if !c.trusted(peer) {
		return
	}
	var hops []hop
	if c.Forwarded {
		hops = parseForwarded(env.Get("HTTP_FORWARDED"))
	} else {
		hops = xForwarded(env)
	}
	h, ok := c.client(hops)
	if !ok {
		return
	}
	if h.addr != "" {
		env[PeerKey] = peer
		env["REMOTE_ADDR"] = h.addr
		if h.port != "" {
			env["REMOTE_PORT"] = h.port
		} else {
			delete(env, "REMOTE_PORT")
		}
	}
	if p := strings.ToLower(h.proto); p == "http" || p == "https" {
		env["wsgi.url_scheme"] = p
	}
	if validHost(h.host) {
		setHost(env, h.host)
	}
	if strings.HasPrefix(h.prefix, "/") && !strings.ContainsFunc(h.prefix, isControl) {
		env["SCRIPT_NAME"] = strings.TrimRight(h.prefix, "/") + env.ScriptName()
	}
}

// client walks hops from the right, over the trusted ones, and returns the
// hop that received the request from the client: the one whose address is
// the first untrusted one. A hop whose address is not an address (unknown,
// an obfuscated name) ends the walk; the client is then the last proxy
// walked over, and its hop's other values are still believed.
func (c Config) client(hops []hop) (hop, bool) {
	if len(hops) == 0 {
		return hop{}, false
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if _, err := netip.ParseAddr(h.addr); err != nil {
			h.addr, h.port = "", ""
			return h, true
		}
		if !c.trusted(h.addr) || i == 0 {
			return h, true
		}
	}
	return hop{}, false // not reached
}

func (c Config) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// xForwarded makes hops of X-Forwarded-For and its siblings. A sibling
// with one value per address in X-Forwarded-For was appended to hop by
// hop, and is read at the client's hop; otherwise its last value, the
// nearest proxy's, counts for every hop.
func xForwarded(env wsgi.Environ) []hop {
	addrs := list(env.Get("HTTP_X_FORWARDED_FOR"))
	protos := list(env.Get("HTTP_X_FORWARDED_PROTO"))
	hosts := list(env.Get("HTTP_X_FORWARDED_HOST"))
	prefixes := list(env.Get("HTTP_X_FORWARDED_PREFIX"))
	n := len(addrs)
	if n == 0 {
		// No address, but a proxy may still say the scheme or the host.
		n = 1
		addrs = []string{""}
	}
	hops := make([]hop, n)
	for i := range hops {
		hops[i] = hop{
			proto:  at(protos, i, n),
			host:   at(hosts, i, n),
			prefix: at(prefixes, i, n),
		}
		hops[i].addr, hops[i].port = splitAddr(addrs[i])
	}
	return hops
}

// at returns the value for hop i of n.
func at(values []string, i, n int) string {
	switch len(values) {
	case 0:
		return ""
	case n:
		return values[i]
	}
	return values[len(values)-1]
}

// list splits a comma-separated header value, trimming each item.
func list(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	items := strings.Split(v, ",")
	for i, s := range items {
		items[i] = strings.TrimSpace(s)
	}
	return items
}

// splitAddr takes an address apart from a port, if any: "1.2.3.4",
// "1.2.3.4:80", "[::1]:80", "::1" and "[::1]" are all understood.
func splitAddr(s string) (addr, port string) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String(), ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().String(), strconv.Itoa(int(ap.Port()))
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.String(), ""
		}
	}
	return s, ""
}

// setHost sets HTTP_HOST to host, and SERVER_NAME and SERVER_PORT from it,
// the port being the scheme's own when host names none.
func setHost(env wsgi.Environ, host string) {
	env["HTTP_HOST"] = host
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name = strings.Trim(host, "[]")
		port = "80"
		if env.Get("wsgi.url_scheme") == "https" {
			port = "443"
		}
	}
	env["SERVER_NAME"], env["SERVER_PORT"] = name, port
}

// validHost accepts a host name or address with an optional port, nothing
// a client could use to break out of a URL built from it.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-.:[]_", r)
		if !ok {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// ParsePrefixes reads a comma-separated list of addresses and CIDR
// prefixes, such as "127.0.0.1,10.0.0.0/8,::1": the form of a -proxy flag.
// An address alone is a prefix of that one address.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list(s) {
		if a, err := netip.ParseAddr(item); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a prefix such as 10.0.0.0/8", item)
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address given: want a list such as 127.0.0.1,10.0.0.0/8")
	}
	return out, nil
}
