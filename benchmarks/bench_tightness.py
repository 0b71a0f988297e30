"""Time ``binomgbml tightness``, its replay and ``binomgbml diagnose`` against ``binomgbml bounds``.

    .venv/bin/python benchmarks/bench_tightness.py [--repeats 3]

Each command runs as a fresh process (start-up included), the commands interleaved, ``repeats``
times; the table gives the median wall time and its ratio to the median of ``binomgbml bounds``
measured in the same run (the baseline). tightness runs on the Figure 2 setting (witness files in
a temporary directory); diagnose on the first task of the sinusoid study (Figure 3: d = 1761, K = 5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BINOMGBML = str(Path(sys.executable).with_name("binomgbml"))


FACTORY = """
from verify.experiments import sinusoid


def figure3_task():
    config = sinusoid.SinusoidConfig()
    support, query = sinusoid.sample_tasks(sinusoid.batch_generators(0, 0)[0], config)[0]
    return sinusoid.mlp(0), sinusoid.mse, support, query
"""


def commands(out: str) -> dict[str, list[str]]:
    tight = [BINOMGBML, "tightness", "--variant", "all", "--no-progress", "--out", out]
    return {
        "bounds (baseline)": [BINOMGBML, "bounds"],
        "tightness --starts 0 (exact commuting only)": tight + ["--starts", "0"],
        "tightness (default: 8 search starts)": tight,
        "tightness --replay (48 witnesses)": [BINOMGBML, "tightness", "--replay", "REPLAY"],
        "diagnose (Figure 3 task, d = 1761)": [BINOMGBML, "diagnose", "benchtask:figure3_task"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as out:
        Path(out, "benchtask.py").write_text(FACTORY)
        runs = commands(out)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, argv in runs.items():
                if "REPLAY" in argv:
                    argv = [a for a in argv if a != "REPLAY"] + sorted(str(p) for p in Path(out).glob("*-*.json"))
                start = time.perf_counter()
                subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=out)
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["bounds (baseline)"])
    print(f"{'command':<46} {'median s':>9} {'x bounds':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<46} {median:9.2f} {median / base:9.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
