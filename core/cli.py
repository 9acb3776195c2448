"""Headless RiskPrune: the committee report, the sweep table and the recommendation from the command line.

Scheduled validation jobs and scripts get the same numbers as the dashboard because both call
the same core functions. Progress goes to stderr, results to files; bad input ends with a
non-zero exit code and one line saying what is wrong and how to fix it (no traceback).

Exit codes: 0 success; 1 internal error (a bug); 2 bad input or settings; 3 report written but
the ONNX export was impossible (the reason is printed and recorded in manifest.json); 4 (recommend)
no pruned model passes the acceptance policy.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_NO_ONNX, EXIT_NOTHING_ACCEPTABLE = 0, 1, 2, 3, 4


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
    """A comma list with CSV quoting, so a column named "income, net" is written '"income, net",age'."""
    if text is None:
        return None
    items = [t.strip() for t in next(csv.reader([text], skipinitialspace=True), []) if t.strip()]
    return items or None


def _names_file(path: str | None) -> list[str] | None:
    """Column names from a file: one per line (a line may itself be a quoted CSV list)."""
    if path is None:
        return None
    from core.errors import DataError

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"The features file '{path}' cannot be read ({exc.strerror}).", "Check the path.") from exc
    names = [n for line in text.splitlines() if line.strip() for n in (_csv_list(line) or [])]
    if not names:
        raise DataError(f"The features file '{path}' names no column.", "Write one column name per line.")
    return names


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
    f = g.add_mutually_exclusive_group()
    f.add_argument("--features", default=None, metavar="a,b,c",
                   help="For models without an embedded schema: the data columns feeding the model's inputs, in input "
                        "order, comma separated (CSV quoting for names with commas: '\"income, net\",age'). Default: the "
                        "data's numeric columns in file order, target and identifier columns (e.g. ID, customer_id) "
                        "excluded, as in the dashboard. Ignored when the model carries a schema.")
    f.add_argument("--features-file", default=None, metavar="FILE",
                   help="Instead of --features: a text file with one input column name per line, in input order.")
    g.add_argument("--bad-vs-rest", action="store_true",
                   help="Accept a target with more than two outcomes: --bad is bad, every other value good (one-vs-rest).")
    g.add_argument("--missing", choices=("drop", "impute", "pass-through"), default=None,
                   help="What to do with missing or infinite inputs: 'drop' the rows, 'impute' (the schema's training "
                        "statistic, else this data's median / most frequent category) or 'pass-through' NaN to a model "
                        "that handles it (checked). Rows without an outcome are always left out. Default: stop and say "
                        "what is missing. The choice is recorded in manifest.json and stated in the report.")
    e = p.add_argument_group("evaluation rows")
    e.add_argument("--eval-mode", choices=("split-column", "separate-file", "holdout", "all"), default=None,
                   help="Which rows evaluate the model. 'split-column': rows whose --split-column equals --eval-value "
                        "(the other rows fine-tune); 'separate-file': every row of --eval-data (the --data rows fine-tune); "
                        "'holdout': a stratified, seeded 20%% test split (the 60%% training split fine-tunes); 'all': every "
                        "row (nothing to fine-tune on; the report warns that the rows may include training rows). Default: "
                        "separate-file with --eval-data, split-column with --split-column, else holdout on the model's own "
                        "training file or on a file with at least 500 rows and 50 of each outcome, else all.")
    e.add_argument("--split-column", default=None, metavar="COL",
                   help="With --eval-mode split-column: the column that marks evaluation rows (e.g. sample).")
    e.add_argument("--eval-value", default=None, metavar="VALUE",
                   help="With --eval-mode split-column: the value of --split-column that marks evaluation rows "
                        "(default: test, validation, oot, … when the column has one).")
    e.add_argument("--eval-data", default=None, metavar="E.csv",
                   help="A separate evaluation file with the same columns (implies --eval-mode separate-file).")
    e.add_argument("--split-seed", type=int, default=None,
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{report,sweep,recommend}", parser_class=_Parser)

    r = sub.add_parser("report", help="Prune, validate and write the committee report, the slide deck, the pruned model and the manifest.",
                       description="Prune a model, judge it under an acceptance policy, build the validation pack (challenger, "
                                   "rank ordering, calibration tests, seed stability, change record) and write report.html, "
                                   "report.pdf, report.docx, deck.pptx, pruned_model.pt, pruned_model.onnx and manifest.json "
                                   "into --out (each written atomically). Exit codes: 0 ok, 2 bad input, "
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
    o.add_argument("--out", required=True, metavar="DIR", help="Folder for the seven output files (created if missing).")
    o.add_argument("--no-sweep", action="store_true", help="Skip the trade-off sweep (faster; the report then has no trade-off curve).")
    o.add_argument("--sweep-ratios", type=_ratios, default=list(DEFAULT_RATIOS), metavar="0,0.5,...",
                   help="Ratios of the trade-off sweep (default: 0,0.1,...,0.9,0.95).")
    o.add_argument("--explain-rows", type=int, default=500, help="Applicants explained with SHAP (default 500).")
    o.add_argument("--explain-background", type=int, default=100, help="SHAP background rows (default 100).")
    o.add_argument("--bootstrap", type=int, default=200, help="Paired bootstrap resamples for the ΔAUC/ΔKS intervals (default 200).")
    o.add_argument("--segments", default=None, metavar="a,b",
                   help="Columns for the segment-fairness section (comma list, CSV quoting). Default: the data's usual "
                        "segment columns (e.g. age, sex, nationality, housing in the sample; else up to three short "
                        "categorical columns), as in the dashboard.")
    o.add_argument("--no-governance", action="store_true",
                   help="Skip the governance section (segment fairness and adverse-action reasons).")
    o.add_argument("--model-name", default=None, help="Name shown in the report (default: the schema's name or the file name).")
    _add_alignment_options(r)
    v = r.add_argument_group("validation pack")
    v.add_argument("--policy", default=None, metavar="P.json",
                   help="Acceptance policy (JSON as written by the dashboard's Acceptance page or Policy.to_json). Default: "
                        "the default policy with this run's --bootstrap resamples and --seed.")
    v.add_argument("--grades", default=None, metavar="0.02,0.05,...",
                   help="P(bad) boundaries of your rating grades for rank ordering and the per-grade tests (default: score deciles).")
    v.add_argument("--stability-seeds", type=int, default=5, metavar="K",
                   help="Fine-tuning seeds for seed stability, the shipped one included (default 5; 0 = off; only with fine-tuning).")
    v.add_argument("--no-challenger", action="store_true", help="Skip the logistic-regression challenger.")
    v.add_argument("--materiality-margin", type=float, default=0.5, metavar="M",
                   help="Share of every criterion's allowance a non-material change must leave unused (default 0.5).")
    v.add_argument("--exposure", default=None, metavar="COL",
                   help="Loan amount column for expected loss (default: guessed by name among usable columns, e.g. credit_amount, "
                        "else 1 unit per applicant; 'per-applicant' counts expected defaults × LGD; 'none' to skip).")
    v.add_argument("--no-validation", action="store_true", help="Leave out the validation pack (measurement sheet only).")

    s = sub.add_parser("sweep", help="Write the size-vs-risk sweep table (every method x ratio) as CSV.",
                       description="Prune with every method at every ratio on the same rows and cutoff and write one CSV row per "
                                   "point (size, AUC, KS, flips, PSI, Pareto flag).")
    _add_input_options(s)
    s.add_argument("--out", required=True, metavar="sweep.csv", help="CSV file to write (atomically).")
    s.add_argument("--methods", default=None, metavar="a,b", help=f"Comma list of methods (default: all of {', '.join(METHODS)}).")
    s.add_argument("--ratios", type=_ratios, default=list(DEFAULT_RATIOS), metavar="0,0.5,...",
                   help="Comma list of ratios (default: 0,0.1,...,0.9,0.95).")
    _add_alignment_options(s)
    _add_engine_options(s)

    from core.policy import SIZE_AXES

    c = sub.add_parser("recommend", help="Find the smallest pruned model that passes every criterion of an acceptance policy.",
                       description="Search every pruning method for the smallest model that passes the policy (a coarse grid of "
                                   "ratios, then refinement to 1 %; every candidate is pruned and judged) and write the "
                                   "recommended model (pruned_model.pt/.onnx), the committee report, candidates.csv, "
                                   "methods.csv, recommendation.json and manifest.json into --out. Exit codes: 0 a model "
                                   "passes, 4 nothing passes (candidates.csv and methods.csv say which criterion blocked "
                                   "each method), 2 bad input, 1 internal error.")
    _add_input_options(c)
    c.add_argument("--out", required=True, metavar="DIR", help="Folder for the output files (created if missing).")
    c.add_argument("--policy", default=None, metavar="P.json",
                   help="Acceptance policy (JSON as the dashboard's Acceptance page downloads it). Default: the built-in policy.")
    c.add_argument("--size-axis", default="nonzeros", choices=SIZE_AXES,
                   help="What 'smallest' means: non-zero parameters, stored parameters, file bytes, or input variables "
                        "(the data-cost view). Default nonzeros.")
    c.add_argument("--fine-tune-epochs", type=int, default=0, metavar="N",
                   help="Fine-tune every candidate for N epochs (needs training rows, e.g. --eval-mode holdout). Default 0.")
    c.add_argument("--seeds", type=int, default=1, metavar="K",
                   help="Seeds per candidate (pruning and fine-tuning); a ratio passes only if its worst seed passes. Default 1.")
    c.add_argument("--segments", default=None, metavar="a,b",
                   help="Segment columns for the fairness criteria (none: the fairness criteria are not applicable).")
    c.add_argument("--oot", default=None, metavar="LATER.csv",
                   help="An out-of-time sample for the out-of-time criteria (none: not applicable).")
    _add_alignment_options(c)
    _add_engine_options(c)
    return parser


def _add_alignment_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("score alignment")
    g.add_argument("--align", default="none", choices=("none", "to-original", "to-outcomes"),
                   help="Append a monotone map to each pruned model: onto the original model's scores (to-original) or "
                        "onto the observed outcomes (to-outcomes). It is fitted on the training split, or on a seeded "
                        "calibration split of the evaluation rows that is then left out of every evaluation. Default none.")
    g.add_argument("--align-shape", default="affine", choices=("affine", "isotonic"),
                   help="The map: affine (two parameters; Platt for to-outcomes) or isotonic (monotone steps). Default affine.")


def _exposure(value: str | None) -> str | None:
    """--exposure: None guesses, "none" skips expected loss, "per-applicant" counts 1 unit per applicant, else a column."""
    from core.workspace.exposure import PER_APPLICANT

    word = (value or "").strip().lower()
    return "" if word == "none" else PER_APPLICANT if word in ("per-applicant", "per_applicant") else value


def _alignment(args):
    from core.alignment import NO_ALIGNMENT, AlignmentSpec

    if args.align == "none":
        return NO_ALIGNMENT
    return AlignmentSpec(args.align.replace("-", "_"), args.align_shape, seed=args.seed)


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where the work runs").add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="Run the candidates in N local worker processes (default: in this process).")
    g.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="Run the candidates on a Ray cluster (e.g. auto or host:6379; needs pip install -r requirements-ray.txt). "
                        "RAY_ADDRESS in the environment does the same.")


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


def _evaluation_rows(args):
    """--eval-mode / --split-column / --eval-value / --eval-data as one ``EvaluationRows`` (None: the default)."""
    from core.errors import SpecError
    from core.workspace.binding import EVAL_SEPARATE_FILE, EVAL_SPLIT_COLUMN, EvaluationRows

    mode = args.eval_mode or ("separate-file" if args.eval_data else "split-column" if args.split_column else None)
    if mode is None:
        return None
    if EvaluationRows.mode_name(mode) == EVAL_SPLIT_COLUMN:
        if not args.split_column:
            raise SpecError("--eval-mode split-column needs the column that marks evaluation rows.",
                            "Pass --split-column COL (and --eval-value VALUE, e.g. test).")
        return EvaluationRows(EVAL_SPLIT_COLUMN, column=args.split_column, value=args.eval_value)
    if args.split_column or args.eval_value is not None:
        raise SpecError(f"--split-column and --eval-value apply to --eval-mode split-column, not {mode}.",
                        "Leave them out, or use --eval-mode split-column.")
    rows = EvaluationRows.of(mode)
    if rows.mode != EVAL_SEPARATE_FILE and args.eval_data:
        raise SpecError(f"--eval-data gives a separate evaluation file, but --eval-mode is {mode}.",
                        "Use --eval-mode separate-file (or leave --eval-mode out).")
    if rows.mode == EVAL_SEPARATE_FILE and not args.eval_data:
        raise SpecError("--eval-mode separate-file needs the evaluation file.", "Pass --eval-data E.csv.")
    return rows


def _workspace(args, progress: _Progress):
    from dataclasses import replace

    from core.data import (
        MissingValuesError,
        default_inputs,
        identifier_columns,
        numeric_columns,
        read_table,
        resolve_column,
        resolve_columns,
        target_summary,
    )
    from core.data.guess import guess_target
    from core.errors import DataError
    from core.hashing import sha256_hex
    from core.model import load_model
    from core.workspace import bind
    from core.workspace.binding import EVAL_SEPARATE_FILE, EVAL_SPLIT_COLUMN, EvaluationRowsError

    rows = _evaluation_rows(args)
    progress.say(f"loading model {args.model}")
    model_bytes = _read(args.model, "model")
    model = load_model(model_bytes, Path(args.model).name)
    progress.say(f"reading data {args.data}")
    data_bytes = _read(args.data, "data")
    table = read_table(data_bytes, Path(args.data).name, sheet=args.sheet)
    for note in table.notes:
        progress.say(f"note: {note}")
    frame = table.frame
    schema = model.schema
    target = args.target or (schema.target if schema is not None else None)
    if not target:
        guess = guess_target(frame)
        likely = f" (the likely outcome column is '{guess.column}': {guess.reason})" if guess.found else ""
        raise DataError("No target column was given and the model does not record one.", f"Pass --target COLUMN{likely}.")
    target = resolve_column(frame.columns, target, "target column")
    bad = args.bad if args.bad is not None else (schema.bad_value if schema is not None else None)
    if bad is None:
        summary = target_summary(frame, target)
        values = ", ".join(f"'{v.value}' ({v.count:,})" for v in summary.values[:6])
        raise DataError("No bad value was given and the model does not record one.",
                        f"Pass --bad VALUE (the value that marks a default; '{target}' holds {values}).")
    eval_frame = None
    if rows is not None and rows.mode == EVAL_SPLIT_COLUMN:
        rows = replace(rows, column=resolve_column(frame.columns, rows.column, "split column"))
    if rows is not None and rows.mode == EVAL_SEPARATE_FILE:
        progress.say(f"reading evaluation data {args.eval_data}")
        eval_bytes = _read(args.eval_data, "evaluation data")
        eval_frame = read_table(eval_bytes, Path(args.eval_data).name, sheet=args.sheet).frame
        rows = replace(rows, file_sha256=sha256_hex(eval_bytes), file_name=Path(args.eval_data).name)
    features = None
    if schema is None:
        features = _csv_list(args.features) or _names_file(args.features_file)
        if features is None:
            split = rows.column if rows is not None and rows.mode == EVAL_SPLIT_COLUMN else None
            mapped = frame.drop(columns=[split]) if split else frame
            features = default_inputs(mapped, target, model.n_inputs)
            numeric = set(numeric_columns(mapped))
            skipped = [f.column for f in identifier_columns(mapped, exclude=target) if f.column in numeric]
            if skipped:
                progress.say(f"identifier column(s) not fed to the model: {', '.join(map(str, skipped))}")
        features = resolve_columns(frame.columns, features, "feature column")
        width = f"its {model.n_inputs} inputs" if model.n_inputs else "its inputs (the width is checked by running it on the data)"
        progress.say(f"model has no schema: mapping {len(features)} column(s) to {width}")
    data_sha = sha256_hex(data_bytes)
    try:
        ws = bind(model, frame, target, str(bad), feature_columns=features, eval_mode=rows, data_sha256=data_sha,
                  split_seed=args.split_seed, missing=args.missing, one_vs_rest=args.bad_vs_rest, eval_data=eval_frame)
    except MissingValuesError as err:
        raise DataError(err.message, f"{err.hint} Choose with --missing drop, --missing impute or --missing pass-through.") from None
    except EvaluationRowsError as err:
        raise DataError(err.message, f"{err.hint} (--eval-mode, --split-column, --eval-value and --eval-data choose the "
                                     "evaluation rows.)") from None
    progress.say(ws.split_note)
    if ws.missing_values.anything_missing:
        progress.say(f"missing values: {ws.missing_values.summary}")
    if ws.evaluation_warning:
        progress.say(f"warning: {ws.evaluation_warning}")
    return ws, model_bytes, data_bytes, data_sha


def _rule(args):
    from core.metrics import DecisionRule

    return DecisionRule(cutoff=args.cutoff, approval_rate=args.approval_rate)


def _report(args, progress: _Progress) -> int:
    from dataclasses import replace

    from core.errors import SpecError
    from core.explain.sample import ExplainSettings
    from core.files import atomic_write_bytes
    from core.policy import Policy, default_policy
    from core.prune import FineTuneSpec, PruneSpec, method_keys
    from core.report import MANIFEST, ReportOptions, build_report
    from core.validation import ChallengerSpec, MaterialityPolicy, PackOptions, check_grade_edges
    from core.workspace import Setting

    if args.policy is not None:
        policy = Policy.from_json(_read(args.policy, "policy"))
    else:  # the run's own bootstrap settings, so the verdict's ΔAUC bound is the report's interval
        policy = replace(default_policy(), bootstrap_seed=args.seed)
        # --bootstrap 0 (tables without intervals) is no policy setting: the verdict then keeps the
        # policy's own bootstrap, and the report says which resamples its bound used
        with contextlib.suppress(SpecError):
            policy = replace(policy, bootstrap_resamples=args.bootstrap)
    grades = None
    if args.grades is not None:
        try:
            grades = check_grade_edges([float(t) for t in args.grades.split(",") if t.strip()])
        except ValueError:
            raise SpecError(f"--grades '{args.grades}' is not a comma list of numbers.", "Write e.g. --grades 0.02,0.05,0.1,0.2.") from None
    pack = PackOptions(challenger=None if args.no_challenger else ChallengerSpec(seed=args.seed),
                       stability_seeds=args.stability_seeds, grade_edges=grades,
                       materiality=MaterialityPolicy(min_margin=args.materiality_margin))

    ws, model_bytes, data_bytes, data_sha = _workspace(args, progress)
    if args.fine_tune_epochs < 0:
        raise SpecError(f"--fine-tune-epochs {args.fine_tune_epochs} is negative.", "Use 0 (no fine-tuning) or a positive number.")
    if args.fine_tune_epochs and not ws.can_fine_tune:
        raise SpecError("Fine-tuning needs training rows, but every row is used for evaluation.",
                        "Use the held-out evaluation mode (--eval-mode holdout) to fine-tune.")
    ft = FineTuneSpec(epochs=args.fine_tune_epochs, learning_rate=args.learning_rate, seed=args.seed) if args.fine_tune_epochs else None
    setting = Setting(PruneSpec.make(args.method, args.ratio, seed=args.seed), ft, _alignment(args))
    segments = _csv_list(args.segments)
    if segments is not None:
        from core.data import resolve_columns

        segments = resolve_columns(ws.data.frame.columns, segments, "segment column")
    options = ReportOptions(
        rule=_rule(args), bootstrap=args.bootstrap, bootstrap_seed=args.seed,
        run_sweep=not args.no_sweep, sweep_methods=method_keys(), sweep_ratios=tuple(args.sweep_ratios), sweep_seed=args.seed,
        explain=ExplainSettings(max(args.explain_rows, 1), args.explain_background, args.seed) if args.explain_rows > 0 else None,
        governance=not args.no_governance, segment_columns=None if segments is None else tuple(segments),
        policy=policy, validation=not args.no_validation, pack=pack,
        exposure_column=_exposure(args.exposure),
    )
    bundle = build_report(ws, setting, options, model_file=Path(args.model).name, data_file=Path(args.data).name,
                          data_sha256=data_sha, data_bytes=len(data_bytes), model_name=args.model_name,
                          command=["python -m core", *args.argv], progress=progress)
    out = Path(args.out)
    for name, data in bundle.files.items():  # manifest last: it vouches for the files before it
        atomic_write_bytes(out / name, data)
        progress.say(f"wrote {out / name} ({len(data):,} bytes)")
    if bundle.onnx_error:
        print(f"warning: pruned_model.onnx was not written: {bundle.onnx_error}", file=sys.stderr)
        return EXIT_NO_ONNX
    s = bundle.content.summary
    progress.say(f"done: AUC {s['auc_original']:.4f} -> {s['auc_pruned']:.4f}, {s['flips']} flips, PSI {s['psi']:.4f} ({s['psi_band']}); "
                 f"manifest {out / MANIFEST}")
    if bundle.content.pack is not None:
        progress.say(f"verdict: {bundle.content.pack.verdict.headline} {bundle.content.pack.materiality.headline}")
    return EXIT_OK


def _sweep(args, progress: _Progress) -> int:
    from core.errors import SpecError
    from core.execution import make_executor
    from core.files import atomic_write_bytes
    from core.prune import method_keys
    from core.workspace import sweep_workspace

    ws, model_bytes, _, _ = _workspace(args, progress)
    methods = _csv_list(args.methods) or list(method_keys())
    unknown = [m for m in methods if m not in method_keys()]
    if unknown:
        raise SpecError(f"Unknown method(s): {', '.join(unknown)}.", f"Use any of: {', '.join(method_keys())}.")
    rule = _rule(args)
    choice = rule.resolve(ws.y_eval, ws.original_scores)
    total = len(methods) * len(args.ratios)
    last = [0.0]

    def tick(done: int, n: int, what: str) -> None:
        now = time.perf_counter()
        if done == n or now - last[0] > 1.0:
            last[0] = now
            progress.say(f"sweep {done}/{n}: {what}")

    with make_executor(workers=args.workers, ray_address=args.ray) as executor:
        progress.say(f"sweeping {total} prunings at cutoff {choice.cutoff:.4f} ({choice.how}) on {executor.describe()}")
        result = sweep_workspace(ws, rule, args.seed, methods=tuple(methods), ratios=tuple(args.ratios), progress=tick,
                                 alignment=_alignment(args), executor=executor, model_bytes=model_bytes)
    for m, why in result.skipped.items():
        progress.say(f"skipped {m}: {why}")
    table = result.table.assign(cutoff=result.cutoff)
    atomic_write_bytes(args.out, table.to_csv(index=False).encode("utf-8"))
    progress.say(f"wrote {args.out} ({len(table)} rows)")
    return EXIT_OK


def _recommend(args, progress: _Progress) -> int:
    import json

    from core.errors import SpecError
    from core.execution import make_executor
    from core.explain.sample import ExplainSettings
    from core.files import atomic_write_bytes
    from core.policy import Policy, SearchSettings, default_policy, recommend
    from core.prune import FineTuneSpec, PruneSpec
    from core.report import ReportOptions, build_report
    from core.workspace import Setting

    ws, model_bytes, data_bytes, data_sha = _workspace(args, progress)
    policy = Policy.from_json(_read(args.policy, "policy")) if args.policy else default_policy()
    if args.fine_tune_epochs < 0 or args.seeds < 1:
        raise SpecError("--fine-tune-epochs must be 0 or more and --seeds at least 1.", "Use e.g. --fine-tune-epochs 5 --seeds 2.")
    settings = SearchSettings(axis=args.size_axis, seeds=tuple(range(args.seed, args.seed + args.seeds)),
                              fine_tune=FineTuneSpec(args.fine_tune_epochs, seed=args.seed) if args.fine_tune_epochs else None,
                              alignment=_alignment(args))
    oot = None
    if args.oot:
        from core.data import read_table

        oot = read_table(_read(args.oot, "data"), Path(args.oot).name).frame
    segments = tuple(_csv_list(args.segments) or ())
    rule = _rule(args)
    last = [0.0]

    def tick(done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if now - last[0] > 1.0:
            last[0] = now
            progress.say(f"candidate {done} of at most {total}: {what}")

    with make_executor(workers=args.workers, ray_address=args.ray) as executor:
        progress.say(f"searching on {executor.describe()} for the smallest model by {args.size_axis} that passes "
                     f"{len(policy.enabled)} criteria of '{policy.name}'")
        rec = recommend(ws, policy, executor, settings=settings, model_bytes=model_bytes, decision=rule, segments=segments,
                        oot=oot, progress=tick)
    out = Path(args.out)
    atomic_write_bytes(out / "candidates.csv", rec.to_frame().to_csv(index=False).encode("utf-8"))
    atomic_write_bytes(out / "methods.csv", rec.method_frame().to_csv(index=False).encode("utf-8"))
    atomic_write_bytes(out / "recommendation.json",
                       json.dumps({"policy": policy.to_dict(), "recommendation": rec.to_dict()}, indent=2, default=str).encode("utf-8"))
    progress.say(rec.summary)
    if rec.winner is None:
        print(f"no acceptable model: {rec.summary}", file=sys.stderr)
        return EXIT_NOTHING_ACCEPTABLE
    w = rec.winner
    setting = Setting(PruneSpec.make(w.method, w.ratio, seed=w.seed), w.fine_tune, settings.alignment)
    options = ReportOptions(rule=rule, bootstrap_seed=args.seed, sweep_seed=args.seed, explain=ExplainSettings(seed=args.seed),
                            segment_columns=segments or None)
    bundle = build_report(ws, setting, options, model_file=Path(args.model).name, data_file=Path(args.data).name,
                          data_sha256=data_sha, data_bytes=len(data_bytes), command=["python -m core", *args.argv], progress=progress)
    for name, data in bundle.files.items():
        atomic_write_bytes(out / name, data)
        progress.say(f"wrote {out / name} ({len(data):,} bytes)")
    return EXIT_NO_ONNX if bundle.onnx_error else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    progress = _Progress(args.quiet)
    from core.errors import RiskPruneError

    try:
        command = {"report": _report, "sweep": _sweep, "recommend": _recommend}[args.command]
        return command(args, progress)
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

