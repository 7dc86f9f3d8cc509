"""Run the benchmarks: every `tests/bench/bench_*.py` whose name contains PATTERN (all without one).

    python tests/bench/run.py [PATTERN]      # make bench BENCH=pattern

Each script runs as its own process with the same Python; its output streams through as it comes.
Exits non-zero when any script failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def host_loop_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (the best of 3): how fast this host's cores are just now.
    The machine's speed has varied up to 3 times between sessions, so CPU and rate figures are only
    comparable beside this one."""
    best = float("inf")
    for _round in range(3):
        started, total = time.perf_counter(), 0
        for index in range(1_000_000):
            total += index * index
        best = min(best, time.perf_counter() - started)
    return best * 1000


def stolen_seconds() -> float:
    """CPU seconds the hypervisor gave to other guests while this machine's cores wanted to run (the
    `steal` column of /proc/stat, summed over the cores; 0 where the kernel does not count it). On a
    shared host this, more than the load average, tells why a rate that held one hour collapses the next."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
    except OSError:
        return 0.0
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 and fields[0] == "cpu" else 0.0


def main(arguments: list[str]) -> int:
    """Run the matching scripts one after another."""
    pattern = arguments[0] if arguments else ""
    scripts = sorted(path for path in HERE.glob("bench_*.py") if pattern in path.stem)
    if not scripts:
        print(f"no benchmark matches {pattern!r}")
        return 2
    failed = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        print(
            f"BENCH host_loop_before_{script.stem} {host_loop_ms():.1f} ms 1M_python_iterations", flush=True
        )
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parents[1], check=False)
        print(
            f"=== {script.name}: exit {result.returncode} after {time.monotonic() - started:.0f} s",
            flush=True,
        )
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
