"""Headless RiskPrune: the committee report and the sweep table from the command line.

Scheduled validation jobs and scripts get the same numbers as the dashboard because both call
the same core functions. Progress goes to stderr, results to files; bad input ends with a
non-zero exit code and one line saying what is wrong and how to fix it (no traceback).

Exit codes: 0 success; 1 internal error (a bug); 2 bad input or settings; 3 report written but
the ONNX export was impossible (the reason is printed and recorded in manifest.json).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_NO_ONNX = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake on one line (the full usage is under --help)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"error: {message} (see {self.prog} --help)\n")


class _Progress:
    def __init__(self, quiet: bool = False) -> None:
        self.start = time.perf_counter()
        self.quiet = quiet

    def __call__(self, done: int, total: int, what: str) -> None:
        """A ``core.progress.Progress``: counted steps print their count, uncounted ones (total 0) just the text."""
        self.say(f"{what} ({done}/{total})" if total else what)

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {text}", file=sys.stderr, flush=True)


def _csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def _ratios(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma list of numbers such as 0,0.5,0.9") from None


def _add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs")
    g.add_argument("--model", required=True, metavar="M.pt", help="TorchScript model file (pickled models are refused).")
    g.add_argument("--data", required=True, metavar="D.csv", help="Evaluation data: .csv, .parquet or .xlsx.")
    g.add_argument("--sheet", default=None, help="Excel sheet to read (default: the first).")
    g.add_argument("--target", default=None, metavar="COL",
                   help="Target column (outcome). Default: the one recorded in the model's schema, if any.")
    g.add_argument("--bad", default=None, metavar="VALUE",
                   help="Target value that means bad/default. Default: the one recorded in the model's schema, if any.")
    g.add_argument("--features", default=None, metavar="a,b,c",
                   help="For models without an embedded schema: the data columns feeding the model's inputs, in input "
                        "order, comma separated. Default: the data's numeric columns (target excluded) in file order. "
                        "Ignored when the model carries a schema.")
    g.add_argument("--eval-mode", choices=("all", "holdout"), default=None,
                   help="'all' evaluates on every row; 'holdout' evaluates on a stratified 20%% test split and allows "
                        "fine-tuning on the 60%% training split. Default: holdout on the model's own training file, else all.")
    g.add_argument("--split-seed", type=int, default=None,
                   help="Seed of the holdout split (default: the model's schema split seed, else 42).")
    c = p.add_argument_group("decisions").add_mutually_exclusive_group()
    c.add_argument("--cutoff", type=float, default=None, metavar="C",
                   help="Decline when P(bad) >= C. Default: the cutoff at which the original declines as many as the observed bad rate.")
    c.add_argument("--approval-rate", type=float, default=None, metavar="A",
                   help="Instead of --cutoff: the cutoff at which the original model approves this share (0-1).")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="Seed of every random choice of the run: random pruning, fine-tuning, bootstrap, SHAP sample and sweep (default 0).")
    p.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")


def build_parser() -> argparse.ArgumentParser:
    from core.prune import DEFAULT_RATIOS, method_keys

    METHODS = method_keys()

    parser = _Parser(prog="python -m core", description=__doc__.split("\n\n")[0],
                     epilog="Run 'python -m core report --help' or 'python -m core sweep --help' for the options of each command.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{report,sweep}", parser_class=_Parser)

    r = sub.add_parser("report", help="Prune, validate and write the committee report, the pruned model and the manifest.",
                       description="Prune a model and write report.html, report.pdf, pruned_model.pt, pruned_model.onnx and "
                                   "manifest.json into --out (each written atomically). Exit codes: 0 ok, 2 bad input, "
                                   "3 written but ONNX export impossible, 1 internal error.")
    _add_input_options(r)
    g = r.add_argument_group("pruning")
    g.add_argument("--method", required=True, choices=METHODS, help="Pruning method.")
    g.add_argument("--ratio", required=True, type=float, metavar="R",
                   help="Share to remove, 0-0.99 (of weights, of hidden neurons per layer, or of input variables, by method).")
    g.add_argument("--fine-tune-epochs", type=int, default=0, metavar="N",
                   help="Fine-tune the pruned model for N epochs on the training split (needs --eval-mode holdout). Default 0 = no fine-tuning.")
    g.add_argument("--learning-rate", type=float, default=1e-3, help="Fine-tuning learning rate (default 0.001).")
    o = r.add_argument_group("report")
    o.add_argument("--out", required=True, metavar="DIR", help="Folder for the five output files (created if missing).")
    o.add_argument("--no-sweep", action="store_true", help="Skip the trade-off sweep (faster; the report then has no trade-off curve).")
    o.add_argument("--sweep-ratios", type=_ratios, default=list(DEFAULT_RATIOS), metavar="0,0.5,...",
                   help="Ratios of the trade-off sweep (default: 0,0.1,...,0.9,0.95).")
    o.add_argument("--explain-rows", type=int, default=500, help="Applicants explained with SHAP (default 500).")
    o.add_argument("--explain-background", type=int, default=100, help="SHAP background rows (default 100).")
    o.add_argument("--bootstrap", type=int, default=200, help="Paired bootstrap resamples for the ΔAUC/ΔKS intervals (default 200).")
    o.add_argument("--model-name", default=None, help="Name shown in the report (default: the schema's name or the file name).")

    s = sub.add_parser("sweep", help="Write the size-vs-risk sweep table (every method x ratio) as CSV.",
                       description="Prune with every method at every ratio on the same rows and cutoff and write one CSV row per "
                                   "point (size, AUC, KS, flips, PSI, Pareto flag).")
    _add_input_options(s)
    s.add_argument("--out", required=True, metavar="sweep.csv", help="CSV file to write (atomically).")
    s.add_argument("--methods", default=None, metavar="a,b", help=f"Comma list of methods (default: all of {', '.join(METHODS)}).")
    s.add_argument("--ratios", type=_ratios, default=list(DEFAULT_RATIOS), metavar="0,0.5,...",
                   help="Comma list of ratios (default: 0,0.1,...,0.9,0.95).")
    return parser


# --------------------------------------------------------------------------- shared steps


def _read(path: str, what: str) -> bytes:
    from core.errors import DataError, ModelError

    err = ModelError if what == "model" else DataError
    p = Path(path)
    if not p.is_file():
        raise err(f"The {what} file '{path}' does not exist.", "Check the path.")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise err(f"The {what} file '{path}' cannot be read ({exc.strerror}).", "Check the path and its permissions.") from exc


def _workspace(args, progress: _Progress):
    from core.data import numeric_columns, read_table
    from core.errors import DataError
    from core.hashing import sha256_hex
    from core.model import load_model
    from core.workspace import bind

    progress.say(f"loading model {args.model}")
    model_bytes = _read(args.model, "model")
    model = load_model(model_bytes, Path(args.model).name)
    progress.say(f"reading data {args.data}")
    data_bytes = _read(args.data, "data")
    table = read_table(data_bytes, Path(args.data).name, sheet=args.sheet)
    frame = table.frame
    schema = model.schema
    target = args.target or (schema.target if schema is not None else None)
    bad = args.bad if args.bad is not None else (schema.bad_value if schema is not None else None)
    if not target:
        raise DataError("No target column was given and the model does not record one.", "Pass --target COLUMN.")
    if target not in frame.columns:
        raise DataError(f"The data has no column '{target}'.", f"Columns are: {', '.join(map(str, frame.columns[:20]))}.")
    if bad is None:
        raise DataError("No bad value was given and the model does not record one.", "Pass --bad VALUE (the value that marks a default).")
    features = None
    if schema is None:
        features = _csv_list(args.features) or numeric_columns(frame, exclude=target)
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise DataError(f"--features names column(s) the data does not have: {', '.join(missing)}.",
                            "Use column names exactly as in the file's header.")
        width = f"its {model.n_inputs} inputs" if model.n_inputs else "its inputs (the width is checked by running it on the data)"
        progress.say(f"model has no schema: mapping {len(features)} column(s) to {width}")
    data_sha = sha256_hex(data_bytes)
    ws = bind(model, frame, target, str(bad), feature_columns=features, eval_mode=args.eval_mode,
              data_sha256=data_sha, split_seed=args.split_seed)
    progress.say(ws.split_note)
    return ws, model_bytes, data_bytes, data_sha


def _report(args, progress: _Progress) -> int:
    from core.files import atomic_write_bytes
    from core.prune import FineTuneSpec, PruneSpec, method_keys
    from core.report import (
        MANIFEST,
        ReportOptions,
        build_bundle,
        content_for,
        run_report,
    )

    ws, model_bytes, data_bytes, data_sha = _workspace(args, progress)
    spec = PruneSpec.make(args.method, args.ratio, seed=args.seed)
    if args.fine_tune_epochs < 0:
        from core.errors import SpecError

        raise SpecError(f"--fine-tune-epochs {args.fine_tune_epochs} is negative.", "Use 0 (no fine-tuning) or a positive number.")
    ft = FineTuneSpec(epochs=args.fine_tune_epochs, learning_rate=args.learning_rate, seed=args.seed) if args.fine_tune_epochs else None
    options = ReportOptions(
        cutoff=args.cutoff, approval_rate=args.approval_rate, fine_tune=ft, bootstrap=args.bootstrap, bootstrap_seed=args.seed,
        run_sweep=not args.no_sweep, sweep_methods=method_keys(), sweep_ratios=tuple(args.sweep_ratios), sweep_seed=args.seed,
        explain=args.explain_rows > 0, explain_rows=max(args.explain_rows, 1), explain_background=args.explain_background,
        explain_seed=args.seed,
    )
    run = run_report(ws, spec, options, progress=progress)
    content = content_for(ws, run, model_name=args.model_name, data_name=Path(args.data).name, data_sha256=data_sha, options=options)
    bundle = build_bundle(ws, run, content, model_file=Path(args.model).name, data_file=Path(args.data).name,
                          data_bytes=len(data_bytes), command=["python -m core", *args.argv], progress=progress)
    out = Path(args.out)
    for name, data in bundle.files.items():  # manifest last: it vouches for the files before it
        atomic_write_bytes(out / name, data)
        progress.say(f"wrote {out / name} ({len(data):,} bytes)")
    if bundle.onnx_error:
        print(f"warning: pruned_model.onnx was not written: {bundle.onnx_error}", file=sys.stderr)
        return EXIT_NO_ONNX
    s = content.summary
    progress.say(f"done: AUC {s['auc_original']:.4f} -> {s['auc_pruned']:.4f}, {s['flips']} flips, PSI {s['psi']:.4f} ({s['psi_band']}); "
             f"manifest {out / MANIFEST}")
    return EXIT_OK


def _sweep(args, progress: _Progress) -> int:
    from core.errors import SpecError
    from core.files import atomic_write_bytes
    from core.metrics import resolve_cutoff
    from core.prune import make_context, method_keys, sweep
    from core.workspace import reference_inputs

    ws, _, _, _ = _workspace(args, progress)
    methods = _csv_list(args.methods) or list(method_keys())
    unknown = [m for m in methods if m not in method_keys()]
    if unknown:
        raise SpecError(f"Unknown method(s): {', '.join(unknown)}.", f"Use any of: {', '.join(method_keys())}.")
    choice = resolve_cutoff(ws.y_eval, ws.original_scores, cutoff=args.cutoff, approval_rate=args.approval_rate)
    ctx = make_context(ws.model, ws.X_eval, ws.y_eval, ws.output.kind, choice.cutoff)
    total = len(methods) * len(args.ratios)
    last = [0.0]

    def tick(done: int, n: int, what: str) -> None:
        now = time.perf_counter()
        if done == n or now - last[0] > 1.0:
            last[0] = now
            progress.say(f"sweep {done}/{n}: {what}")

    progress.say(f"sweeping {total} prunings at cutoff {choice.cutoff:.4f} ({choice.how})")
    result = sweep(ws.model, ctx, methods=methods, ratios=args.ratios, seed=args.seed, X_reference=reference_inputs(ws),
                   groups=ws.data.groups, progress=tick)
    for m, why in result.skipped.items():
        progress.say(f"skipped {m}: {why}")
    table = result.table.assign(cutoff=result.cutoff)
    atomic_write_bytes(args.out, table.to_csv(index=False).encode("utf-8"))
    progress.say(f"wrote {args.out} ({len(table)} rows)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    progress = _Progress(args.quiet)
    from core.errors import RiskPruneError

    try:
        return _report(args, progress) if args.command == "report" else _sweep(args, progress)
    except RiskPruneError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user mistake: still one line unless debugging
        if os.environ.get("RISKPRUNE_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
              "(set RISKPRUNE_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BUG

