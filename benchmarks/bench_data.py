"""Reading and preparing a portfolio-sized book: 1,000,000 applicants × 24 columns, CSV and Parquet.

The file is generated (seeded) into ``benchmarks/out/`` — never committed — with 23 numeric
inputs shaped like a behavioural scorecard (amounts with cents, counts, ratios, a few missing
nothing) and a 0/1 default flag. Each measurement runs in a fresh interpreter so its peak is its
own: the child imports the libraries, records its resident set size (RSS), reads the file's
bytes, calls ``read_table`` and ``prepare_dataset`` (what the CLI and the dashboard do), and
reports wall time, CPU time (all threads; robust when the machine is shared) and the peak RSS above
that baseline (``ru_maxrss`` − RSS after imports), i.e. the memory the workload itself needs, including the file's bytes.

``--before DIR`` also measures ``core`` from another checkout, interleaved with this one, which
is how the numbers of the code before a change are measured on the same machine in the same
run. Times are medians of ``--repeats`` runs (the machine may be shared); peaks are maxima.

Ends with exactly one line:

    RESULT csv_s=… csv_peak_mb=… parquet_s=… parquet_peak_mb=…

Run:  .venv/bin/python benchmarks/bench_data.py [--rows 1000000] [--repeats 3] [--before DIR]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
N_FEATURES = 23

CHILD = r"""
import json, resource, sys, time
import numpy, pandas, pyarrow, pyarrow.csv, pyarrow.parquet  # the libraries are not the workload
from core.data import prepare_dataset, read_table

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20

def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

base = rss_mb()
c0 = cpu_s()
t0 = time.perf_counter()
data = open({path!r}, "rb").read()
t1, c1 = time.perf_counter(), cpu_s()
table = read_table(data, {name!r}, max_bytes=2**31)
t2, c2 = time.perf_counter(), cpu_s()
ds = prepare_dataset(table.frame, "default", "1")
t3, c3 = time.perf_counter(), cpu_s()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"load_s": t1 - t0, "read_s": t2 - t1, "prepare_s": t3 - t2, "peak_mb": peak - base,
                   "read_cpu_s": c2 - c1, "prepare_cpu_s": c3 - c2,
                   "file_mb": len(data) / 2**20, "shape": list(ds.X.shape), "dtype": str(ds.X.dtype),
                   "bad_rate": ds.bad_rate}}))
"""


def generate(rows: int, seed: int = 0) -> tuple[Path, Path]:
    """Write the seeded 1M × 24 book as CSV and Parquet (once; reused when already there)."""
    import numpy as np
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    csv, pq = OUT / f"book_{rows}.csv", OUT / f"book_{rows}.parquet"
    if csv.exists() and pq.exists():
        return csv, pq
    rng = np.random.default_rng(seed)
    cols = {}
    for j in range(N_FEATURES):
        kind = j % 3
        if kind == 0:  # amounts with cents
            cols[f"amount_{j}"] = rng.lognormal(8, 1, rows).round(2)
        elif kind == 1:  # counts
            cols[f"count_{j}"] = rng.poisson(3, rows)
        else:  # ratios
            cols[f"ratio_{j}"] = rng.beta(2, 5, rows).round(4)
    frame = pd.DataFrame(cols)
    frame["default"] = (rng.random(rows) < 0.2).astype(int)
    frame.to_csv(csv, index=False)
    frame.to_parquet(pq, index=False)
    return csv, pq


def measure(path: Path, root: Path) -> dict:
    code = CHILD.format(root=str(root), path=str(path), name=path.name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    """Median times and the largest peak over the repeats (the machine may be shared: times vary, memory does not)."""
    return {
        "read_s": statistics.median(r["read_s"] for r in runs), "prepare_s": statistics.median(r["prepare_s"] for r in runs),
        "total_s": statistics.median(r["read_s"] + r["prepare_s"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs),
        "cpu_s": statistics.median(r["read_cpu_s"] + r["prepare_cpu_s"] for r in runs),
        "file_mb": runs[0]["file_mb"], "shape": runs[0]["shape"], "dtype": runs[0]["dtype"], "bad_rate": runs[0]["bad_rate"],
    }


def line(label: str, r: dict) -> str:
    return (f"{label:18s} {r['file_mb']:6.1f} MB file: read_table {r['read_s']:5.2f} s, prepare_dataset {r['prepare_s']:5.2f} s, "
            f"total {r['total_s']:5.2f} s (CPU {r['cpu_s']:5.2f} s); peak {r['peak_mb']:5.0f} MB above the interpreter "
            f"(X {r['shape'][0]:,}×{r['shape'][1]} {r['dtype']}, bad rate {r['bad_rate']:.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median time, largest peak)")
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout (e.g. `git worktree add /tmp/before main`) measured interleaved with this one")
    args = parser.parse_args()
    csv, pq = generate(args.rows)
    roots = {"after": ROOT} if args.before is None else {"before": args.before.resolve(), "after": ROOT}
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeats):  # interleaved, so a busy moment hits both checkouts alike
        for fmt, path in (("csv", csv), ("parquet", pq)):
            for who, root in roots.items():
                results.setdefault((fmt, who), []).append(measure(path, root))
    summary = {key: summarise(runs) for key, runs in results.items()}
    for (fmt, who), r in summary.items():
        print(line(f"{fmt} ({who})", r))
    c, p = summary[("csv", "after")], summary[("parquet", "after")]
    print(f"RESULT csv_s={c['total_s']:.2f} csv_peak_mb={c['peak_mb']:.0f} "
          f"parquet_s={p['total_s']:.2f} parquet_peak_mb={p['peak_mb']:.0f}")


if __name__ == "__main__":
    main()
