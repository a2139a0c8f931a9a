"""Prints the CPU seconds (user + system) of every process in a session.

Usage: python3 cputime.py SID [SID...]. Reads /proc; Linux only.
"""
import os
import sys

TICKS = os.sysconf("SC_CLK_TCK")


def session_cpu(sid: int) -> float:
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid:  # field 6: the session
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def main(argv: list[str]) -> int:
    print(" ".join(f"{session_cpu(int(s)):.2f}" for s in argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
