#!/usr/bin/env bash
# bench/serve.sh: wsgo serve's throughput against a bare net/http server that
# sends the same bytes, both loaded by wrk on loopback, side by side.
#
#   bench/serve.sh [ROUNDS] [SECONDS]        (default 5 rounds of 5 s)
#
# Each round runs wrk against the bare server and against `wsgo serve hello`
# (validator and request log on, no reload), at 1 and at 50 connections,
# alternating which goes first. It prints every figure, then the medians and
# the ratio wsgo / bare, and the CPU time each server spent per request
# (from /proc, so less swayed by what else the machine runs). Extra flags for wsgo serve: WSGO_FLAGS (for example
# WSGO_FLAGS=--no-validate). The request log goes to a file; its line count
# is checked against the requests wrk completed.
#
# FLOORS="environ gateway" adds bench/bare in those modes to every round:
# the bare server plus an environ per request, and a wsgo app under
# wsgi.Handler alone, the floors below wsgo serve.
#
# WSGO_BEFORE=REV adds wsgo serve as built from the commit REV (with the
# same flags) to every round, as "before": a change measured against the
# tree before it, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
path=/api/hello/bench

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

go build -o "$work/wsgo" .
go build -o "$work/bare" ./bench/bare
if [ -n "${WSGO_BEFORE:-}" ]; then
  mkdir "$work/before"
  git archive "$WSGO_BEFORE" | tar -x -C "$work/before"
  (cd "$work/before" && go build -o "$work/wsgo-before" .)
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1$path" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing answered on port $1" >&2
  return 1
}

wport=$(free_port)
NO_COLOR=1 "$work/wsgo" serve hello --no-reload --port "$wport" ${WSGO_FLAGS:-} 2>"$work/wsgo.log" &
pids+=($!)
wait_port "$wport"
curl -fsS -D "$work/headers" -o "$work/body" "http://127.0.0.1:$wport$path"
ctype=$(grep -i '^content-type:' "$work/headers" | cut -d' ' -f2- | tr -d '\r')
bport=$(free_port)
"$work/bare" -addr "127.0.0.1:$bport" -body "$work/body" -type "$ctype" &
pids+=($!)
bpid=$!
wait_port "$bport"
wsgo_len=$(wc -c <"$work/body")
declare -A port_of pid_of
port_of[bare]=$bport pid_of[bare]=$bpid
port_of[wsgo]=$wport pid_of[wsgo]=${pids[0]}
contenders="wsgo"
if [ -n "${WSGO_BEFORE:-}" ]; then
  port=$(free_port)
  NO_COLOR=1 "$work/wsgo-before" serve hello --no-reload --port "$port" ${WSGO_FLAGS:-} 2>"$work/before.log" &
  pids+=($!)
  port_of[before]=$port pid_of[before]=$!
  wait_port "$port"
  contenders+=" before"
fi
contenders+=" ${FLOORS:-}"
for mode in ${FLOORS:-}; do
  port=$(free_port)
  "$work/bare" -addr "127.0.0.1:$port" -body "$work/body" -type "$ctype" -mode "$mode" &
  pids+=($!)
  port_of[$mode]=$port pid_of[$mode]=$!
  wait_port "$port"
done
for who in "${!port_of[@]}"; do
  n=$(curl -fsS "http://127.0.0.1:${port_of[$who]}$path" | wc -c)
  [ "$n" = "$wsgo_len" ] || { echo "bodies differ: $who $n vs wsgo $wsgo_len bytes" >&2; exit 1; }
done
echo "body: $wsgo_len bytes, $ctype; $rounds rounds of ${secs}s; wsgo flags: ${WSGO_FLAGS:-none}; before: ${WSGO_BEFORE:-none}; floors: ${FLOORS:-none}"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_wrk() { # port conns pid -> requests/sec, completed requests, CPU µs per request
  local t0 t1
  t0=$(cpu_ticks "$3")
  wrk -t1 -c"$2" -d"${secs}s" --latency "http://127.0.0.1:$1$path" >"$work/wrk.out"
  t1=$(cpu_ticks "$3")
  awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
    '/Requests\/sec/ {rps=$2} /requests in/ {n=$1} END {printf "%s %s %.1f\n", rps, n, t * 1e6 / hz / n}' "$work/wrk.out"
}

: >"$work/results"
served=1 # the one curl above
for r in $(seq 1 "$rounds"); do
  for c in 1 50; do
    order="bare $contenders"
    [ $((r % 2)) -eq 0 ] && order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
    for who in $order; do
      read -r rps n cpu < <(run_wrk "${port_of[$who]}" "$c" "${pid_of[$who]}")
      [ "$who" = wsgo ] && served=$((served + n))
      echo "round $r  c=$c  $who  $rps req/s  $cpu µs CPU/request"
      echo "$c $who $rps $cpu" >>"$work/results"
    done
  done
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
for c in 1 50; do
  b=$(awk -v c="$c" '$1==c && $2=="bare" {print $3}' "$work/results" | median)
  bc=$(awk -v c="$c" '$1==c && $2=="bare" {print $4}' "$work/results" | median)
  for who in $contenders; do
    w=$(awk -v c="$c" -v who="$who" '$1==c && $2==who {print $3}' "$work/results" | median)
    wc=$(awk -v c="$c" -v who="$who" '$1==c && $2==who {print $4}' "$work/results" | median)
    awk -v c="$c" -v who="$who" -v b="$b" -v w="$w" -v bc="$bc" -v wc="$wc" 'BEGIN {
      printf "c=%-3s median bare %9.0f  %-7s %9.0f req/s  ratio %.2f;  CPU/request bare %.1f µs  %s %.1f µs (ratio %.2f)\n", c, b, who, w, w/b, bc, who, wc, bc/wc}'
  done
done

kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
logged=$(grep -c "\"GET $path" "$work/wsgo.log" || true)
echo "request log: $logged lines for at least $served requests wrk completed"
[ "$logged" -ge "$served" ] || { echo "request log lines were lost" >&2; exit 1; }
