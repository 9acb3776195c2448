"""One call from a bound workspace and a prune spec to every file a committee and an engineer need.

``run_report`` computes (prune, optional fine-tuning, comparison with bootstrap CIs, optional
sweep, SHAP importance shift) with the same core functions the dashboard uses, and
``build_bundle`` turns the result into report.html, report.pdf, pruned_model.pt,
pruned_model.onnx and manifest.json bytes. The CLI writes the bundle; the dashboard offers each
file as a download.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from core.errors import ModelError, SpecError
from core.explain.shift import ImportanceShift, importance_shift
from core.metrics.comparison import Comparison
from core.progress import Progress, report
from core.prune.finetune import FineTuneSpec, fine_tune
from core.prune.methods import method_keys
from core.prune.spec import PruneSpec
from core.prune.sweep import DEFAULT_RATIOS, SweepResult, make_context, sweep
from core.report.content import ReportContent, build_report_content
from core.report.export import onnx_bytes, torchscript_bytes
from core.report.html import html_bytes
from core.report.manifest import build_manifest, manifest_bytes
from core.report.pdf import render_pdf
from core.workspace.binding import Workspace
from core.workspace.operations import (
    PrunedModel,
    attributions_for,
    compare_workspace,
    prune_workspace,
    reference_inputs,
    sample_for,
    scored,
)

REPORT_HTML, REPORT_PDF, MODEL_PT, MODEL_ONNX, MANIFEST = (
    "report.html", "report.pdf", "pruned_model.pt", "pruned_model.onnx", "manifest.json")


@dataclass(frozen=True)
class ReportOptions:
    """Every choice of a report run besides the prune spec; all recorded in the manifest."""

    cutoff: float | None = None
    approval_rate: float | None = None
    fine_tune: FineTuneSpec | None = None
    bootstrap: int = 200
    bootstrap_seed: int = 0
    run_sweep: bool = True
    sweep_methods: tuple[str, ...] = field(default_factory=method_keys)
    sweep_ratios: tuple[float, ...] = DEFAULT_RATIOS
    sweep_seed: int = 0
    explain: bool = True
    explain_rows: int = 500
    explain_background: int = 100
    explain_seed: int = 0

    def to_dict(self) -> dict:
        return {
            "cutoff": self.cutoff, "approval_rate": self.approval_rate,
            "fine_tune": None if self.fine_tune is None else vars(self.fine_tune).copy(),
            "bootstrap": self.bootstrap, "bootstrap_seed": self.bootstrap_seed, "run_sweep": self.run_sweep,
            "sweep_methods": list(self.sweep_methods), "sweep_ratios": list(self.sweep_ratios), "sweep_seed": self.sweep_seed,
            "explain": self.explain, "explain_rows": self.explain_rows, "explain_background": self.explain_background,
            "explain_seed": self.explain_seed,
        }


@dataclass(frozen=True, eq=False)
class ReportRun:
    pruned: PrunedModel
    comparison: Comparison
    sweep: SweepResult | None
    shift: ImportanceShift | None
    explain_settings: dict = field(default_factory=dict)
    sweep_settings: dict = field(default_factory=dict)


def _say(progress: Progress | None, text: str) -> None:
    """A step without a count (total 0): the CLI prints it, the dashboard shows it as status."""
    report(progress, 0, 0, text)


def run_report(ws: Workspace, spec: PruneSpec, options: ReportOptions = ReportOptions(),
               progress: Progress | None = None) -> ReportRun:
    """All computations of a report, with the dashboard's own core functions."""
    _say(progress, f"pruning: {spec.label} at {spec.ratio:.0%}")
    pruned = prune_workspace(ws, spec)
    if options.fine_tune is not None:
        if not ws.can_fine_tune:
            raise SpecError("Fine-tuning needs training rows, but every row is used for evaluation.",
                            "Use the held-out evaluation mode (--eval-mode holdout) to fine-tune.")
        _say(progress, f"fine-tuning {options.fine_tune.epochs} epochs on {len(ws.train_idx)} training rows")
        pruned = scored(ws, fine_tune(pruned.result, ws.X_train, ws.y_train, ws.output.kind, options.fine_tune))
    _say(progress, f"comparing on {len(ws.eval_idx)} rows ({options.bootstrap} bootstrap resamples)")
    comparison = compare_workspace(ws, pruned, cutoff=options.cutoff, approval_rate=options.approval_rate,
                                   bootstrap=options.bootstrap, seed=options.bootstrap_seed)
    result_sweep, sweep_settings = None, {}
    if options.run_sweep:
        ctx = make_context(ws.model, ws.X_eval, ws.y_eval, ws.output.kind, comparison.cutoff.cutoff)
        total = len(options.sweep_methods) * len(options.sweep_ratios)
        _say(progress, f"sweeping {total} prunings")
        result_sweep = sweep(ws.model, ctx, methods=options.sweep_methods, ratios=options.sweep_ratios, seed=options.sweep_seed,
                             X_reference=reference_inputs(ws), groups=ws.data.groups)
        sweep_settings = {"methods": list(options.sweep_methods), "ratios": list(options.sweep_ratios), "seed": options.sweep_seed,
                          "skipped": dict(result_sweep.skipped)}
    shift, explain_settings = None, {}
    if options.explain:
        sample = sample_for(ws, options.explain_rows, options.explain_background, options.explain_seed)
        _say(progress, f"explaining {len(sample.rows)} applicants against {len(sample.background)} background rows")
        a_orig = attributions_for(ws, None, sample)
        a_pruned = attributions_for(ws, pruned, sample)
        shift = importance_shift(a_orig, a_pruned, ws.data.groups)
        explain_settings = {"rows": int(len(sample.rows)), "background": int(len(sample.background)), "seed": options.explain_seed,
                            "explainer": _with_bound(a_pruned), "explainer_original": _with_bound(a_orig)}
    return ReportRun(pruned, comparison, result_sweep, shift, explain_settings, sweep_settings)


def _with_bound(att) -> str:
    """The explainer's label, with its error bound when its values are sampled estimates."""
    if getattr(att, "error_bound", None) is None:
        return att.label
    return f"{att.label} (error bound ±{att.error_bound:.2g} on the log-odds, 95 %, largest over applicants and variables)"


def content_for(ws: Workspace, run: ReportRun, governance: Any = None, *, model_name: str | None = None,
                data_name: str | None = None, data_sha256: str | None = None, options: ReportOptions | None = None,
                created_utc: str | None = None) -> ReportContent:
    return build_report_content(
        ws, run.pruned, run.comparison, run.sweep, run.shift, governance, model_name=model_name, data_name=data_name,
        data_sha256=data_sha256, explain_settings=run.explain_settings, sweep_settings=run.sweep_settings,
        extra_settings={"options": options.to_dict()} if options is not None else None, created_utc=created_utc,
    )


def pdf_bytes(content: ReportContent) -> bytes:
    return render_pdf(content)


def manifest_for(content: ReportContent, outputs: Mapping[str, bytes], *, model_file: str | None = None,
                 data_file: str | None = None, data_bytes: int | None = None, model_bytes: int | None = None,
                 command: Sequence[str] | None = None, notes: Mapping[str, str] | None = None) -> dict:
    """The run manifest of a report: settings, seeds, input and output hashes, key numbers."""
    inputs = {
        "model": {"name": model_file or content.model_name, "sha256": content.model_sha256, "bytes": model_bytes},
        "data": {"name": data_file or content.data_name, "sha256": content.data_sha256, "bytes": data_bytes,
                 "prepared_fingerprint": content.data_fingerprint, "rows": content.n_rows},
    }
    results = dict(content.summary)
    if notes:
        results["notes"] = dict(notes)
    return build_manifest(settings=content.settings, inputs=inputs, outputs=outputs, results=results,
                          seeds=content.seeds, created=content.created_utc, command=list(command) if command else None)


@dataclass(frozen=True, eq=False)
class ReportBundle:
    content: ReportContent
    files: dict  # file name → bytes, manifest.json last
    manifest: dict
    onnx_error: str | None = None  # why the ONNX file is missing, when it is


def build_bundle(ws: Workspace, run: ReportRun, content: ReportContent, *, model_file: str | None = None,
                 data_file: str | None = None, data_bytes: int | None = None, command: Sequence[str] | None = None,
                 progress: Progress | None = None) -> ReportBundle:
    """Render and export everything; ONNX failure is recorded (with its reason), not fatal."""
    files: dict[str, bytes] = {}
    _say(progress, "rendering report.html")
    files[REPORT_HTML] = html_bytes(content)
    _say(progress, "rendering report.pdf")
    files[REPORT_PDF] = pdf_bytes(content)
    _say(progress, "exporting pruned_model.pt (TorchScript)")
    files[MODEL_PT] = torchscript_bytes(run.pruned.result)
    _say(progress, "exporting pruned_model.onnx (checked with onnxruntime)")
    onnx_error = None
    try:
        files[MODEL_ONNX] = onnx_bytes(run.pruned.result, ws.model.n_inputs, ws.X_eval)
    except ModelError as exc:
        onnx_error = str(exc)
    notes = {"onnx": onnx_error} if onnx_error else None
    manifest = manifest_for(content, files, model_file=model_file, data_file=data_file, data_bytes=data_bytes,
                            model_bytes=ws.model.file_bytes, command=command, notes=notes)
    files[MANIFEST] = manifest_bytes(manifest)
    return ReportBundle(content, files, manifest, onnx_error)
