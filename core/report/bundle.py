"""One call from a bound workspace and a prune spec to every file a committee and an engineer need.

``run_report`` computes (prune, optional fine-tuning, comparison with bootstrap CIs, optional
sweep, SHAP importance shift, governance, and the validation pack of ``core.validation``: verdict
under the acceptance policy, challenger, rank ordering, calibration tests, seed stability, change
record) with the same core functions the dashboard uses, and ``build_bundle`` turns the result
into report.html, report.pdf, report.docx, deck.pptx, pruned_model.pt, pruned_model.onnx and
manifest.json bytes. The CLI writes the bundle; the dashboard offers each file as a download.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from core.errors import ModelError
from core.explain.sample import ExplainSettings
from core.explain.shift import ImportanceShift, importance_shift
from core.governance.reasons import DEFAULT_REASONS
from core.governance.segments import SegmentSpec, default_segment_columns
from core.hashing import digest
from core.metrics.comparison import Comparison
from core.metrics.decisions import DEFAULT_LGD, DecisionRule
from core.metrics.intervals import DEFAULT_BOOTSTRAP
from core.policy import Policy, Recommendation, default_policy
from core.progress import Progress, report
from core.prune.methods import method_keys
from core.prune.spec import PruneSpec
from core.prune.sweep import DEFAULT_RATIOS, SweepResult
from core.report.content import FAIRNESS_TITLE, REASONS_TITLE, ReportContent, build_report_content
from core.report.deck import deck_bytes
from core.report.docx import docx_bytes
from core.report.export import onnx_bytes, torchscript_bytes
from core.report.html import html_bytes
from core.report.manifest import build_manifest, manifest_bytes
from core.report.pdf import render_pdf
from core.validation import PackOptions, ValidationPack, build_pack
from core.workspace.binding import Workspace
from core.workspace.governance import OutOfTimeSample, reasons_for, segment_fairness_for
from core.workspace.operations import (
    PrunedModel,
    Setting,
    as_setting,
    attributions_for,
    compare_workspace,
    evaluation_workspace,
    prune_workspace,
    sweep_workspace,
)

REPORT_HTML, REPORT_PDF, REPORT_DOCX, DECK_PPTX, MODEL_PT, MODEL_ONNX, MANIFEST = (
    "report.html", "report.pdf", "report.docx", "deck.pptx", "pruned_model.pt", "pruned_model.onnx", "manifest.json")


@dataclass(frozen=True)
class ReportOptions:
    """Every choice of a report run besides the model setting; all recorded in the manifest.

    The defaults are the dashboard's: decisions at the default cutoff, a 200-resample paired
    bootstrap, the full sweep, SHAP on ``ExplainSettings()``, and governance on the default segment
    columns (``core.governance.segments.default_segment_columns``) plus adverse-action reasons.

    ``policy`` is the acceptance policy the verdict is judged under (its own bootstrap settings
    decide the verdict's ΔAUC bound; the report says so when they differ from ``bootstrap``);
    ``recommendation`` a ``core.policy.Recommendation`` the dashboard or the CLI ran (the report
    lists its candidates); ``pack`` how the validation pack is computed (``validation=False``
    leaves it out); ``oot`` a later sample; ``exposure_column`` the loan amount for expected loss
    (None: guessed by name, "": none).
    """

    rule: DecisionRule = DecisionRule()
    bootstrap: int = DEFAULT_BOOTSTRAP
    bootstrap_seed: int = 0
    run_sweep: bool = True
    sweep_methods: tuple[str, ...] = field(default_factory=method_keys)
    sweep_ratios: tuple[float, ...] = DEFAULT_RATIOS
    sweep_seed: int = 0
    explain: ExplainSettings | None = ExplainSettings()
    governance: bool = True
    segment_columns: tuple[str | SegmentSpec, ...] | None = None  # None: the default segment columns of the data
    reasons_k: int = DEFAULT_REASONS
    policy: Policy = field(default_factory=default_policy)
    recommendation: Recommendation | None = None
    validation: bool = True
    pack: PackOptions = PackOptions()
    oot: OutOfTimeSample | None = None
    exposure_column: str | None = None
    lgd: float = DEFAULT_LGD

    def to_dict(self) -> dict:
        segs = None if self.segment_columns is None else [
            {"column": s.column, "edges": None if s.edges is None else list(s.edges), "bands": s.bands}
            if isinstance(s, SegmentSpec) else s for s in self.segment_columns]
        return {
            "decisions": self.rule.to_dict(), "bootstrap": self.bootstrap, "bootstrap_seed": self.bootstrap_seed,
            "run_sweep": self.run_sweep, "sweep_methods": list(self.sweep_methods), "sweep_ratios": list(self.sweep_ratios),
            "sweep_seed": self.sweep_seed, "explain": None if self.explain is None else self.explain.to_dict(),
            "governance": self.governance, "segment_columns": segs, "reasons_k": self.reasons_k,
            "policy_key": self.policy.key, "validation": self.pack.to_dict() if self.validation else None,
            "recommendation": self.recommendation is not None,
            "out_of_time": None if self.oot is None else {"name": self.oot.name, "sha256": self.oot.sha256},
            "exposure_column": self.exposure_column, "lgd": self.lgd,
        }

    @property
    def key(self) -> str:
        """Content key of every choice (the dashboard keeps one built bundle per key)."""
        rec = "" if self.recommendation is None else json.dumps(self.recommendation.to_dict(), sort_keys=True, default=str)
        return digest([json.dumps(self.to_dict(), sort_keys=True, default=str), self.policy.key, rec], length=32)


@dataclass(frozen=True, eq=False)
class ReportRun:
    ws: Workspace  # the rows the setting is judged on (fewer than bound when a score map took calibration rows)
    setting: Setting
    pruned: PrunedModel
    comparison: Comparison
    sweep: SweepResult | None
    shift: ImportanceShift | None
    governance: dict = field(default_factory=dict)  # section title → result with to_frame()
    explain_settings: dict = field(default_factory=dict)
    sweep_settings: dict = field(default_factory=dict)
    pack: ValidationPack | None = None


def _say(progress: Progress | None, text: str) -> None:
    """A step without a count (total 0): the CLI prints it, the dashboard shows it as status."""
    report(progress, 0, 0, text)


def run_report(ws: Workspace, setting: Setting | PruneSpec, options: ReportOptions = ReportOptions(),
               progress: Progress | None = None) -> ReportRun:
    """All computations of a report, through the same memoised operations the dashboard pages use.

    A report built in the dashboard therefore reuses the pruning, sweep and attributions the pages
    already computed; the CLI computes them once.
    """
    setting = as_setting(setting)
    ws = evaluation_workspace(ws, setting)
    spec = setting.prune
    _say(progress, f"pruning: {spec.label} at {spec.ratio:.0%}")
    if setting.fine_tune is not None:
        _say(progress, f"fine-tuning {setting.fine_tune.epochs} epochs on {len(ws.train_idx)} training rows")
    pruned = prune_workspace(ws, setting, progress=progress)
    _say(progress, f"comparing on {len(ws.eval_idx)} rows ({options.bootstrap} bootstrap resamples)")
    comparison = compare_workspace(ws, pruned, options.rule, bootstrap=options.bootstrap, seed=options.bootstrap_seed)
    result_sweep, sweep_settings = None, {}
    if options.run_sweep:
        _say(progress, f"sweeping {len(options.sweep_methods) * len(options.sweep_ratios)} prunings")
        result_sweep = sweep_workspace(ws, options.rule, options.sweep_seed, methods=tuple(options.sweep_methods),
                                       ratios=tuple(options.sweep_ratios), alignment=setting.alignment)
        sweep_settings = {"methods": list(options.sweep_methods), "ratios": list(options.sweep_ratios), "seed": options.sweep_seed,
                          "skipped": dict(result_sweep.skipped)}
    shift, explain_settings, sample = None, {}, None
    if options.explain is not None:
        sample = options.explain.draw(len(ws.eval_idx))
        _say(progress, f"explaining {len(sample.rows)} applicants against {len(sample.background)} background rows")
        a_orig = attributions_for(ws, None, sample)
        a_pruned = attributions_for(ws, pruned, sample)
        shift = importance_shift(a_orig, a_pruned, ws.data.groups)
        explain_settings = {"rows": int(len(sample.rows)), "background": int(len(sample.background)), "seed": options.explain.seed,
                            "explainer": _with_bound(a_pruned), "explainer_original": _with_bound(a_orig)}
    governance: dict = {}
    segments: tuple[SegmentSpec, ...] = ()
    if options.governance:
        columns = (options.segment_columns if options.segment_columns is not None
                   else tuple(default_segment_columns(ws.data.frame, ws.data.target)))
        segments = tuple(dict.fromkeys(c if isinstance(c, SegmentSpec) else SegmentSpec(str(c)) for c in columns))
        cutoff = comparison.cutoff.cutoff
        if segments:
            _say(progress, f"segment fairness on {', '.join(s.column for s in segments)}")
            governance[FAIRNESS_TITLE] = segment_fairness_for(ws, pruned, cutoff, segments)
        if sample is not None:
            _say(progress, "adverse-action reasons of declined applicants")
            governance[REASONS_TITLE] = reasons_for(ws, pruned, sample, cutoff, options.reasons_k)
    pack = None
    if options.validation:
        pack = build_pack(ws, setting, pruned, comparison, rule=options.rule, policy=options.policy, options=options.pack,
                          segments=segments, oot=options.oot, recommendation=options.recommendation,
                          exposure_column=options.exposure_column, lgd=options.lgd, progress=progress)
    return ReportRun(ws, setting, pruned, comparison, result_sweep, shift, governance, explain_settings, sweep_settings, pack)


def _with_bound(att) -> str:
    """The explainer's label, with its error bound when its values are sampled estimates."""
    if getattr(att, "error_bound", None) is None:
        return att.label
    return f"{att.label} (error bound ±{att.error_bound:.2g} on the log-odds, 95 %, largest over applicants and variables)"


def _notes(run: ReportRun) -> tuple[str, ...]:
    """What a reader must know to reconcile two numbers that answer similar questions differently."""
    pack, ci = run.pack, run.comparison.ci.get("auc")
    if pack is None or ci is None or not pack.policy.needs_metric("delta_auc_low"):
        return ()
    p = pack.policy
    if (ci.resamples, ci.seed) == (p.bootstrap_resamples, p.bootstrap_seed):
        return ()
    return (f"The verdict's ΔAUC bound uses the policy's own paired bootstrap ({p.bootstrap_resamples} resamples, seed "
            f"{p.bootstrap_seed}: lower bound {pack.measurements.delta_auc_low:+.4f}); the performance tables use "
            f"{ci.resamples} resamples, seed {ci.seed} (lower bound {ci.low:+.4f}).",)


def content_for(ws: Workspace, run: ReportRun, *, model_name: str | None = None, data_name: str | None = None,
                data_sha256: str | None = None, options: ReportOptions | None = None,
                created_utc: str | None = None) -> ReportContent:
    return build_report_content(
        ws, run.pruned, run.comparison, run.sweep, run.shift, run.governance or None, model_name=model_name, data_name=data_name,
        data_sha256=data_sha256, explain_settings=run.explain_settings, sweep_settings=run.sweep_settings,
        extra_settings={"options": options.to_dict()} if options is not None else None, created_utc=created_utc,
        pack=run.pack, notes=_notes(run),
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
    extra = {}
    if content.pack is not None:
        extra = {"policy": content.pack.policy.to_dict(), "verdict": content.pack.verdict.to_dict(),
                 "validation": content.pack.to_dict()}
    return build_manifest(settings=content.settings, inputs=inputs, outputs=outputs, results=results,
                          seeds=content.seeds, created=content.created_utc, command=list(command) if command else None,
                          extra=extra)


@dataclass(frozen=True, eq=False)
class ReportBundle:
    content: ReportContent
    files: dict  # file name → bytes, manifest.json last
    manifest: dict
    onnx_error: str | None = None  # why the ONNX file is missing, when it is

    @cached_property
    def archive(self) -> bytes:
        """Every file in one zip, in the bundle's order (manifest last), built once per bundle.

        The Report page offers it on every rerun; compressing a few MB each time would make every
        click on that page slow, and a download started during a rebuild could be cut off.
        """
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.files.items():
                zf.writestr(name, data)
        return buffer.getvalue()


def build_bundle(ws: Workspace, run: ReportRun, content: ReportContent, *, model_file: str | None = None,
                 data_file: str | None = None, data_bytes: int | None = None, command: Sequence[str] | None = None,
                 progress: Progress | None = None) -> ReportBundle:
    """Render and export everything; ONNX failure is recorded (with its reason), not fatal."""
    files: dict[str, bytes] = {}
    _say(progress, "rendering report.html")
    files[REPORT_HTML] = html_bytes(content)
    _say(progress, "rendering report.pdf")
    files[REPORT_PDF] = pdf_bytes(content)
    _say(progress, "rendering report.docx")
    files[REPORT_DOCX] = docx_bytes(content)
    _say(progress, "rendering deck.pptx")
    files[DECK_PPTX] = deck_bytes(content)
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


def build_report(ws: Workspace, setting: Setting | PruneSpec, options: ReportOptions = ReportOptions(), *,
                 model_file: str | None = None, data_file: str | None = None, data_sha256: str | None = None,
                 data_bytes: int | None = None, model_name: str | None = None, command: Sequence[str] | None = None,
                 created_utc: str | None = None, progress: Progress | None = None) -> ReportBundle:
    """The one report path: the CLI's ``report`` command and the dashboard's Report page both call this."""
    run = run_report(ws, setting, options, progress=progress)
    content = content_for(run.ws, run, model_name=model_name, data_name=data_file, data_sha256=data_sha256, options=options,
                          created_utc=created_utc)
    return build_bundle(run.ws, run, content, model_file=model_file, data_file=data_file, data_bytes=data_bytes,
                        command=command, progress=progress)
