#!/usr/bin/env bash
# bench/python.sh: wsgo run against gunicorn (sync and gthread workers) and
# waitress, serving the same Python apps with the same processes, side by
# side on loopback, loaded by wrk.
#
#   bench/python.sh [ROUNDS] [SECONDS]        (default 3 rounds of 5 s)
#
# Apps: the tutorial's demo_app (examples/python/demo_app.py) and a Flask
# JSON route (bench/python/flask_app.py). Servers, all with Debian's
# /usr/bin/python3, started once and loaded in turn, in every round:
#
#   wsgo-2x1              wsgo run -workers 2 -threads 1
#   wsgo-2x1-allprocs     the same with GOMAXPROCS=$(nproc), Go's default,
#                         where wsgo run otherwise takes half
#   gunicorn-sync-2       gunicorn -w 2 (sync workers)
#   wsgo-2x4              wsgo run -workers 2 -threads 4
#   gunicorn-gthread-2x4  gunicorn -w 2 -k gthread --threads 4
#   wsgo-1x4              wsgo run -workers 1 -threads 4
#   waitress-1x4          waitress-serve --threads=4 (one process)
#
# Each run is wrk at 1 connection (-t1 -c1) or 50 (-t2 -c50). For each it
# records requests, the 99th percentile latency, and the CPU time the
# server's processes spent (from /proc, by session). wsgo writes its
# access log to a file; gunicorn and waitress keep none. At the end it
# prints the raw runs and a Markdown table of medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-5}
py=/usr/bin/python3

need=()
command -v wrk >/dev/null || need+=(wrk)
$py -c 'import gunicorn' 2>/dev/null || need+=(gunicorn)
$py -c 'import waitress' 2>/dev/null || need+=(python3-waitress)
$py -c 'import flask' 2>/dev/null || need+=(python3-flask)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
sids=()
cleanup() {
  for s in "${sids[@]}"; do kill -- "-$s" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/wsgo" .
cp examples/python/demo_app.py bench/python/flask_app.py "$work/"

declare -A port cmd
n=9100
add() { # NAME APP COMMAND...: a server of APP (demo or flask)
  local name=$1 app=$2
  shift 2
  n=$((n + 1))
  port[$name/$app]=$n
  cmd[$name/$app]="$*"
}
for app in demo flask; do
  target=demo_app:demo_app
  [ $app = flask ] && target=flask_app:app
  # wsgo run takes FILE.py:callable, the others module:callable; PORT is
  # the server's port.
  file=${target/:/.py:}
  add wsgo-2x1 $app "$work/wsgo" run "$file" -python $py -workers 2 -threads 1 -port PORT
  add wsgo-2x1-allprocs $app env GOMAXPROCS="$(nproc)" "$work/wsgo" run "$file" -python $py -workers 2 -threads 1 -port PORT
  add gunicorn-sync-2 $app $py -m gunicorn -w 2 -b 127.0.0.1:PORT "$target"
  add wsgo-2x4 $app "$work/wsgo" run "$file" -python $py -workers 2 -threads 4 -port PORT
  add gunicorn-gthread-2x4 $app $py -m gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:PORT "$target"
  add wsgo-1x4 $app "$work/wsgo" run "$file" -python $py -workers 1 -threads 4 -port PORT
  add waitress-1x4 $app $py -m waitress --threads=4 --listen=127.0.0.1:PORT "$target"
done

declare -A sid
for k in "${!cmd[@]}"; do
  c=${cmd[$k]//PORT/${port[$k]}}
  # A session of its own, to count its processes' CPU time.
  (cd "$work" && exec setsid $c >"$work/${k//\//-}.log" 2>&1) &
  sid[$k]=$!
  sids+=($!)
done
for k in "${!cmd[@]}"; do
  url=http://127.0.0.1:${port[$k]}/
  [[ $k == */flask ]] && url=${url}json
  for _ in $(seq 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
  curl -sf -o /dev/null "$url" || { echo "$k did not start:"; cat "$work/${k//\//-}.log"; exit 1; }
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
servers=(wsgo-2x1 wsgo-2x1-allprocs gunicorn-sync-2 wsgo-2x4 gunicorn-gthread-2x4 wsgo-1x4 waitress-1x4)
results=$work/results.tsv
for r in $(seq "$rounds"); do
  # Alternate the order from round to round.
  order=("${servers[@]}")
  if [ $((r % 2)) = 0 ]; then order=($(printf '%s\n' "${servers[@]}" | tac)); fi
  for app in demo flask; do
    for c in 1 50; do
      for s in "${order[@]}"; do
        k=$s/$app
        url=http://127.0.0.1:${port[$k]}/
        [ $app = flask ] && url=${url}json
        t=1
        [ "$c" = 50 ] && t=2
        before=$($py bench/python/cputime.py "${sid[$k]}")
        out=$(wrk -t$t -c$c -d"${secs}s" --latency "$url")
        after=$($py bench/python/cputime.py "${sid[$k]}")
        reqs=$(awk '/requests in/ {print $1}' <<<"$out")
        errs=$(awk '/Non-2xx|Socket errors/' <<<"$out")
        [ -n "$errs" ] && echo "$k c=$c: $errs" >&2
        p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
        cpu=$(awk -v a="$before" -v b="$after" 'BEGIN {print b - a}')
        echo "$r $s $app $c $reqs $secs $p99 $cpu" | tee -a "$results"
      done
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
$py bench/python/report.py "$results"
