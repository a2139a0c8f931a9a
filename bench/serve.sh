#!/usr/bin/env bash
# bench/serve.sh: wsgo's servers against a bare net/http server that sends
# the same bytes, all loaded by wrk on loopback, side by side in one run.
#
#   bench/serve.sh [ROUNDS] [SECONDS]        (default 5 rounds of 5 s)
#
# Two apps, chosen with APP:
#
# APP=tutorial: the WSGI tutorial's four-line app (docs/writing-apps.md),
# in a user's module made for the run, served by
#   bare      bench/bare -mode tutorial: the same four lines from net/http
#   built     the program `wsgo build` writes, access log (text) to a file
#   json      the same program with -log-format json
#   serve     `wsgo serve tutorial --no-reload` (validator and request log
#             on, the log to a file)
#   gunicorn  the app's Python form under gunicorn, 2 sync workers
#             (/usr/bin/gunicorn and /usr/bin/python3, Debian's)
#   wsgiref   the Python form under wsgiref.simple_server
# at 50 connections (CONNS to change), wrk -t2 (THREADS). WSGO_BEFORE=REV adds
# built and serve as built from the commit REV, as built-before and
# serve-before. SKIP="wsgiref …" leaves contenders out.
#
# APP=hello (the default): `wsgo serve hello --no-reload` answering
# `GET /api/hello/bench` against bench/bare with the same 18 bytes, at 1 and
# 50 connections, wrk -t1. WSGO_FLAGS adds flags to wsgo serve (such as
# --no-validate); WSGO_BEFORE=REV adds wsgo serve as built from REV;
# FLOORS="environ gateway" adds bench/bare in those modes (a bare server
# plus an environ per request, and a wsgo app under wsgi.Handler alone).
#
# Each round runs every server in turn, alternating the order. The script
# prints every figure, then the medians: requests a second, their ratio to
# bare (the median of each round's ratio: the machine may be slower in one
# round than in the next), the 99th percentile of latency, the CPU time the server's processes
# spent per request (from /proc, so less swayed by what else the machine
# runs) and, for Go servers, the heap allocations per request (counted by
# the server itself, see bench/allocs). Request logs go to files, and their
# line counts are checked against the requests wrk completed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-5}
secs=${2:-5}
app=${APP:-hello}

if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 1200); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1$path" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing answered on port $1" >&2
  return 1
}

declare -A port_of pid_of allocs_of log_of
contenders=""
# start NAME LOGPATTERN CMD...: starts a server (its stderr to a log), with
# $port free for it to listen on and $aport for its allocation count.
start() {
  local who=$1 pattern=$2
  shift 2
  WSGO_BENCH_ALLOCS=127.0.0.1:$aport NO_COLOR=1 "$@" 2>"$work/$who.log" &
  pids+=($!)
  port_of[$who]=$port pid_of[$who]=$! allocs_of[$who]=$aport
  [ -n "$pattern" ] && log_of[$who]=$pattern
  [ "$who" = bare ] || contenders+=" $who"
  wait_port "$port"
}
next_ports() { port=$(free_port) aport=$(free_port); }
skipped() { [[ " ${SKIP:-} " == *" $1 "* ]]; }

# module DIR WSGO: a user's module in DIR with the tutorial's app, using the
# wsgo checkout at WSGO.
module() {
  mkdir -p "$1/tutorial"
  cat >"$1/go.mod" <<EOF
module example.com/bench

go 1.25

require github.com/wsgo/wsgo v0.0.0

replace github.com/wsgo/wsgo => $2
EOF
  cat >"$1/tutorial/tutorial.go" <<'EOF'
// Package tutorial is the WSGI tutorial's app, as docs/writing-apps.md
// writes it in Go.
package tutorial

import (
	"iter"
	"strconv"
	"strings"

	"github.com/wsgo/wsgo/bench/allocs"
	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	wsgi.Register("tutorial", wsgi.AppFunc(application))
	allocs.ServeFromEnv()
}

func application(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	body := strings.Join([]string{
		"The request method was " + env.Method(),
		"The request path info was " + env.PathInfo(),
		"The remote host was " + env.RemoteAddr(),
		"The query string was " + env.QueryString(),
	}, "\n")
	start("200 OK", wsgi.Headers{
		{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Name: "Content-Length", Value: strconv.Itoa(len(body))},
	})
	return wsgi.BodyString(body)
}
EOF
  (cd "$1" && cp "$2/go.sum" . && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
}

# tree_ticks PID: the CPU ticks of PID and all its descendants.
tree_ticks() {
  local all t=0 p
  all=$(ps -e -o pid=,ppid= | awk -v root="$1" '
    {parent[$1]=$2}
    END {n=1; want[root]=1; while (n) {n=0; for (p in parent) if (!(p in want) && (parent[p] in want)) {want[p]=1; n=1}} for (p in want) print p}')
  for p in $all; do
    # The command's name may hold spaces: count fields after its ")".
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$t"
}
allocs() { # PORT -> objects allocated so far, or -
  [ -n "$1" ] && curl -fsS "http://127.0.0.1:$1/" 2>/dev/null || echo -
}

if [ "$app" = tutorial ]; then
  path='/get/prefix?ip='
  conns=${CONNS:-50}
  threads=${THREADS:-2}
  go build -o "$work/wsgo" .
  go build -o "$work/bare" ./bench/bare
  module "$work/mod" "$root"
  (cd "$work/mod" && "$work/wsgo" build -o "$work/site" >/dev/null)
  if [ -n "${WSGO_BEFORE:-}" ]; then
    mkdir "$work/before"
    git archive "$WSGO_BEFORE" | tar -x -C "$work/before"
    mkdir -p "$work/before/bench/allocs" && cp bench/allocs/allocs.go "$work/before/bench/allocs/"
    (cd "$work/before" && go build -o "$work/wsgo-before" .)
    module "$work/mod-before" "$work/before"
    (cd "$work/mod-before" && "$work/wsgo-before" build -o "$work/site-before" >/dev/null)
  fi
  mkdir "$work/py"
  cat >"$work/py/tutorial.py" <<'EOF'
def application(environ, start_response):
    body = "\n".join([
        "The request method was %s" % environ["REQUEST_METHOD"],
        "The request path info was %s" % environ["PATH_INFO"],
        "The remote host was %s" % environ["REMOTE_ADDR"],
        "The query string was %s" % environ["QUERY_STRING"],
    ]).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
EOF
  cat >"$work/py/simple.py" <<'EOF'
import sys
from wsgiref.simple_server import make_server
from tutorial import application
make_server("127.0.0.1", int(sys.argv[1]), application).serve_forever()
EOF
  text="\"GET $path HTTP/1.1\""
  next_ports; start bare "" "$work/bare" -mode tutorial -addr "127.0.0.1:$port"
  next_ports; start built "$text" "$work/site" tutorial -port "$port"
  next_ports; start json "\"uri\":\"$path\"" "$work/site" tutorial -port "$port" -log-format json
  next_ports; start serve "$text" bash -c 'cd "$1/mod" && exec "$1/wsgo" serve tutorial --no-reload --port "$2"' - "$work" "$port"
  if [ -n "${WSGO_BEFORE:-}" ]; then
    next_ports; start built-before "$text" "$work/site-before" tutorial -port "$port"
    next_ports; start serve-before "$text" bash -c 'cd "$1/mod-before" && exec "$1/wsgo-before" serve tutorial --no-reload --port "$2"' - "$work" "$port"
  fi
  if ! skipped gunicorn; then
    port=$(free_port) aport=
    start gunicorn "" /usr/bin/python3 /usr/bin/gunicorn --chdir "$work/py" -w 2 -k sync -b "127.0.0.1:$port" tutorial:application
  fi
  if ! skipped wsgiref; then
    port=$(free_port) aport=
    start wsgiref "" /usr/bin/python3 "$work/py/simple.py" "$port"
  fi
  curl -fsS -o "$work/body" "http://127.0.0.1:${port_of[bare]}$path"
else
  path=/api/hello/bench
  conns=${CONNS:-1 50}
  threads=${THREADS:-1}
  go build -o "$work/wsgo" .
  go build -o "$work/bare" ./bench/bare
  if [ -n "${WSGO_BEFORE:-}" ]; then
    mkdir "$work/before"
    git archive "$WSGO_BEFORE" | tar -x -C "$work/before"
    (cd "$work/before" && go build -o "$work/wsgo-before" .)
  fi
  hello="\"GET $path"
  next_ports; start wsgo "$hello" "$work/wsgo" serve hello --no-reload --port "$port" ${WSGO_FLAGS:-}
  curl -fsS -D "$work/headers" -o "$work/body" "http://127.0.0.1:$port$path"
  ctype=$(grep -i '^content-type:' "$work/headers" | cut -d' ' -f2- | tr -d '\r')
  next_ports; start bare "" "$work/bare" -addr "127.0.0.1:$port" -body "$work/body" -type "$ctype"
  if [ -n "${WSGO_BEFORE:-}" ]; then
    next_ports; start before "$hello" "$work/wsgo-before" serve hello --no-reload --port "$port" ${WSGO_FLAGS:-}
  fi
  for mode in ${FLOORS:-}; do
    next_ports; start "$mode" "" "$work/bare" -addr "127.0.0.1:$port" -body "$work/body" -type "$ctype" -mode "$mode"
  done
fi

len=$(wc -c <"$work/body")
for who in "${!port_of[@]}"; do
  curl -fsS -o "$work/other" "http://127.0.0.1:${port_of[$who]}$path"
  cmp -s "$work/body" "$work/other" || { echo "bodies differ: $who sends $(wc -c <"$work/other") bytes, bare $len" >&2; exit 1; }
done
echo "app: $app, body: $len bytes (the same from every server); $rounds rounds of ${secs}s; wrk -t$threads; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wsgo flags: ${WSGO_FLAGS:-none}; before: ${WSGO_BEFORE:-none}; floors: ${FLOORS:-none}"

declare -A served
for who in "${!port_of[@]}"; do served[$who]=2; done # the curls above
run_wrk() { # who conns -> requests/sec, p99 µs, CPU µs per request, allocs per request, completed requests
  local who=$1 t0 t1 a0 a1
  t0=$(tree_ticks "${pid_of[$who]}")
  a0=$(allocs "${allocs_of[$who]}")
  wrk -t"$threads" -c"$2" -d"${secs}s" --latency "http://127.0.0.1:${port_of[$who]}$path" >"$work/wrk.out"
  a1=$(allocs "${allocs_of[$who]}")
  t1=$(tree_ticks "${pid_of[$who]}")
  awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v a0="$a0" -v a1="$a1" '
    function us(s) { if (s ~ /us$/) return s + 0; if (s ~ /ms$/) return s * 1000; if (s ~ /s$/) return s * 1e6; return s }
    /Requests\/sec/ {rps=$2} /requests in/ {n=$1} $1 == "99%" {p99=us($2)}
    END {
      a = "-"; if (a0 != "-" && a1 != "-") a = sprintf("%.1f", (a1 - a0) / n)
      printf "%s %.0f %.1f %s %s\n", rps, p99, t * 1e6 / hz / n, a, n
    }' "$work/wrk.out"
}

: >"$work/results"
for r in $(seq 1 "$rounds"); do
  for c in $conns; do
    order="bare $contenders"
    [ $((r % 2)) -eq 0 ] && order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
    for who in $order; do
      read -r rps p99 cpu al n < <(run_wrk "$who" "$c")
      served[$who]=$((served[$who] + n))
      echo "round $r  c=$c  $who  $rps req/s  p99 $p99 µs  $cpu µs CPU/request  $al allocs/request"
      echo "$c $who $rps $p99 $cpu $al $r" >>"$work/results"
    done
  done
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0 || a[1] == "-") print "-"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$1" -v who="$2" -v k="$3" '$1==c && $2==who {print $k}' "$work/results" | median; }
# ratio C WHO K: the median, over rounds, of bare's figure K over WHO's in
# the same round (or WHO's over bare's with "up"): a ratio within a round
# holds when the machine is faster in one round than in another.
ratio() {
  awk -v c="$1" -v who="$2" -v k="$3" -v up="${4:-}" '$1 == c {v[$2, $7] = $k; rounds[$7]}
    END {for (r in rounds) if ((who, r) in v && ("bare", r) in v) print (up ? v[who, r] / v["bare", r] : v["bare", r] / v[who, r])}' \
    "$work/results" | median
}
echo
echo "medians: req/s, ratio to bare, p99, CPU per request (and bare's / its), allocations per request;"
echo "each ratio is the median of the rounds' ratios, each within its round"
for c in $conns; do
  for who in bare $contenders; do
    awk -v c="$c" -v who="$who" -v w="$(col "$c" "$who" 3)" -v r="$(ratio "$c" "$who" 3 up)" -v p="$(col "$c" "$who" 4)" \
      -v wc="$(col "$c" "$who" 5)" -v rc="$(ratio "$c" "$who" 5)" -v al="$(col "$c" "$who" 6)" 'BEGIN {
      printf "c=%-3s %-13s %9.0f req/s  ratio %.2f  p99 %6.0f µs  CPU/request %5.1f µs (ratio %.2f)  allocs/request %s\n", c, who, w, r, p, wc, rc, al}'
  done
done

for who in "${!log_of[@]}"; do
  kill "${pid_of[$who]}"
  wait "${pid_of[$who]}" 2>/dev/null || true
  logged=$(grep -cF "${log_of[$who]}" "$work/$who.log" || true)
  echo "request log of $who: $logged lines for at least ${served[$who]} requests wrk completed"
  [ "$logged" -ge "${served[$who]}" ] || { echo "request log lines were lost" >&2; exit 1; }
done
