"""Summarizes bench/python.sh's runs: medians per server, app and load,
and each wsgo configuration's ratios (wsgo / other) to the servers it is
set against.

Usage: python3 report.py RESULTS.tsv
RESULTS.tsv lines: round server app conns requests seconds p99_ms cpu_s
"""
import statistics
import sys
from collections import defaultdict

# Each server, and the wsgo configurations with the same processes it is
# compared with: the same threads, and (against sync workers) wsgo's
# threads, which a sync worker does not have.
PAIRS = [("gunicorn-sync-2", ["wsgo-2x1", "wsgo-2x1-allprocs", "wsgo-2x4"]),
         ("gunicorn-gthread-2x4", ["wsgo-2x4"]),
         ("waitress-1x4", ["wsgo-1x4"])]


def load(path: str) -> dict:
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            _, server, app, conns, reqs, secs, p99, cpu = line.split()
            reqs_n = int(reqs)
            runs[(server, app, conns)].append(
                (reqs_n / float(secs), float(p99), float(cpu) / max(reqs_n, 1) * 1e6))
    return runs


def medians(samples: list) -> tuple:
    return tuple(statistics.median(s[i] for s in samples) for i in range(3))


def main(argv: list[str]) -> int:
    runs = load(argv[1])
    print("| app | conns | server | req/s | p99 | CPU/request | req/s ratio | p99 ratio | CPU ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for app in sorted({k[1] for k in runs}):
        for conns in sorted({k[2] for k in runs}, key=int):
            for theirs, ours in PAIRS:
                if (theirs, app, conns) not in runs:
                    continue
                t = medians(runs[(theirs, app, conns)])
                print(f"| {app} | {conns} | {theirs} | {t[0]:,.0f} | {t[1]:.2f} ms | {t[2]:.0f} µs | | | |")
                for name in ours:
                    if (name, app, conns) not in runs:
                        continue
                    o = medians(runs[(name, app, conns)])
                    print(f"| {app} | {conns} | **{name}** | {o[0]:,.0f} | {o[1]:.2f} ms | {o[2]:.0f} µs "
                          f"| **{o[0] / t[0]:.2f}** | {o[1] / t[1]:.2f} | {o[2] / t[2]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
