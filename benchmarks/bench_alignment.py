"""Score alignment on the sample: how much of pruning's score shift a two-parameter map takes back.

The sample model (German Credit MLP with BatchNorm) bound to its own training file with the
held-out split (``core.workspace.bind(..., eval_mode="holdout", data_sha256=…)``: 600 training
rows, 200 evaluation rows), pruned at 50 % of its hidden neurons (``neuron_l1``). The map is fitted
on the 600 training rows only (``fit_for`` with the default spec: align to the original, affine,
rows "auto" → the training split) and judged on the 200 evaluation rows at the original model's
default cutoff: score PSI against the original and the share of flipped decisions, raw vs aligned.

Also printed (not in the RESULT line): every method × shape on the same rows; the issue's own
setting (all 1,000 rows, map fitted on a seeded 60 % calibration split, judged on the other 40 %);
PSI raw vs aligned along a ``neuron_l1`` ratio sweep; the median time of one fit + append
(single-threaded, what a sweep pays per candidate); and the largest ONNX-vs-torch difference of
the exported aligned model. Ends with exactly one line:

    RESULT psi_raw=… psi_aligned=… flips_raw=… flips_aligned=…

(flips are shares of the evaluation rows). Run:  .venv/bin/python benchmarks/bench_alignment.py
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import pandas as pd
import torch

from core.alignment import AlignmentSpec, aligned_module, aligned_result, alignment_effect, fit_for
from core.hashing import sha256_hex
from core.model import load_model, predict_pbad
from core.prune import PruneSpec
from core.report.export import onnx_bytes, onnx_max_difference
from core.workspace import bind, prune_workspace

ROOT = Path(__file__).resolve().parents[1]

SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"
FIT_REPEATS = 15


def effect_of(ws, pruned_module, spec: AlignmentSpec):
    fitted, rows = fit_for(ws, spec, pruned_module)
    X, y = ws.data.X[rows.eval_idx], ws.data.y[rows.eval_idx]
    kind = ws.output.kind
    aligned = aligned_module(pruned_module, fitted)
    effect = alignment_effect(y, predict_pbad(ws.model.module, X, kind), predict_pbad(pruned_module, X, kind),
                              predict_pbad(aligned, X, kind))
    return fitted, rows, effect


def line(label: str, rows, effect) -> str:
    return (f"  {label:<44} fit {rows.n_fit:>4} / eval {rows.n_eval:>4} rows  PSI {effect.psi_raw:6.3f} → {effect.psi_aligned:6.3f}"
            f"  flips {effect.flip_share_raw:6.1%} → {effect.flip_share_aligned:6.1%}"
            f"  AUC {effect.raw.pruned.auc:.4f} → {effect.aligned.pruned.auc:.4f}")


def main() -> None:
    torch.set_num_threads(1)
    model = load_model(SAMPLE_MODEL.read_bytes(), SAMPLE_MODEL.name)
    frame = pd.read_csv(SAMPLE_DATA)
    sha = sha256_hex(SAMPLE_DATA.read_bytes())
    ws = bind(model, frame, "creditability", "bad", eval_mode="holdout", data_sha256=sha)
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    module = pruned.result.module
    print(f"sample: {model.n_parameters} parameters; {pruned.description}")

    fitted, _, effect = effect_of(ws, module, AlignmentSpec("to_original"))
    print(fitted.describe())
    print(effect.to_frame().to_string(index=False))
    print("every method × shape (holdout split, fitted on the training rows):")
    for method in ("to_original", "to_outcomes"):
        for shape in ("affine", "isotonic"):
            _, r, e = effect_of(ws, module, AlignmentSpec(method, shape))
            print(line(f"{method} / {shape}", r, e))

    ws_all = bind(model, frame, "creditability", "bad", eval_mode="all", data_sha256=sha)
    pruned_all = prune_workspace(ws_all, PruneSpec.make("neuron_l1", 0.5))
    _, r, e = effect_of(ws_all, pruned_all.result.module, AlignmentSpec("to_original"))
    print("issue 21's setting (all rows; 60 % calibration split, seed 0):")
    print(line("to_original / affine", r, e))

    print("neuron_l1 ratio sweep (holdout), PSI raw → aligned:")
    for ratio in (0.1, 0.3, 0.5, 0.7, 0.9):
        p = prune_workspace(ws, PruneSpec.make("neuron_l1", ratio))
        _, r, e = effect_of(ws, p.result.module, AlignmentSpec("to_original"))
        print(line(f"ratio {ratio:.0%}", r, e))

    times = []
    for _ in range(FIT_REPEATS):
        t = time.perf_counter()
        f, _ = fit_for(ws, AlignmentSpec("to_original"), module)
        aligned_module(module, f)
        times.append((time.perf_counter() - t) * 1000)
    print(f"fit + append (affine, 600 rows, 1 thread): median {statistics.median(times):.1f} ms over {FIT_REPEATS}")
    shipped = aligned_result(pruned.result, fitted)
    diff = onnx_max_difference(onnx_bytes(shipped, model.n_inputs, ws.X_eval), shipped.module, ws.X_eval)
    print(f"exported ONNX vs torch on the evaluation rows: max |difference| {diff:.2e}; "
          f"file {pruned.result.size.file_bytes} → {shipped.size.file_bytes} bytes")

    print(f"RESULT psi_raw={effect.psi_raw:.4f} psi_aligned={effect.psi_aligned:.4f} "
          f"flips_raw={effect.flip_share_raw:.4f} flips_aligned={effect.flip_share_aligned:.4f}")


if __name__ == "__main__":
    main()
