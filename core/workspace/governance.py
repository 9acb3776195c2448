"""Governance on a workspace: its evaluation rows segmented, reasons compared, a later sample scored (memoised)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.cache import memoized
from core.data.dataset import Dataset, prepare_dataset
from core.errors import DataError, ExplainError
from core.explain.attributions import Attributions
from core.explain.sample import ExplainSample
from core.governance.drift import CATEGORICAL, NUMERIC, OutOfTime, characteristic_psi
from core.governance.reasons import DEFAULT_REASONS, ReasonStability, adverse_action_reasons
from core.governance.segments import DEFAULT_BANDS, SegmentFairness, SegmentSpec, segment_fairness
from core.metrics._validation import as_scores, check_cutoff
from core.metrics.comparison import risk_metrics
from core.metrics.decisions import decline
from core.metrics.stability import psi
from core.model.outputs import predict_pbad
from core.workspace.binding import Workspace
from core.workspace.operations import PrunedModel, attributions_for


def eval_frame(ws: Workspace) -> pd.DataFrame:
    """The raw columns of the workspace's evaluation rows (``Dataset.frame`` is row-aligned with X)."""
    return ws.data.frame.iloc[ws.eval_idx].reset_index(drop=True)


@memoized(64)
def segment_fairness_for(ws: Workspace, pruned: PrunedModel, cutoff: float, columns: Sequence[str | SegmentSpec],
                         bands: int = DEFAULT_BANDS) -> SegmentFairness:
    """``segment_fairness`` on a workspace's evaluation rows (columns by name, or ``SegmentSpec`` with own edges)."""
    return segment_fairness(eval_frame(ws), ws.y_eval, ws.original_scores, pruned.scores, cutoff=cutoff, columns=columns,
                            bands=bands)


def adverse_action_reasons_for(ws: Workspace, pruned_scores: Any, attr_original: Attributions, attr_pruned: Attributions,
                               cutoff: float, k: int = DEFAULT_REASONS) -> ReasonStability:
    """``adverse_action_reasons`` on a workspace: attributions' ``row_index`` are positions among its evaluation rows."""
    sp = as_scores(pruned_scores, "pruned scores")
    rows = np.asarray(attr_original.row_index, dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= len(ws.original_scores)):
        raise ExplainError("The attributions refer to rows outside the evaluation data.", "Explain a sample of this workspace's rows.")
    groups = ws.data.groups if attr_original.level == "feature" else None
    c = check_cutoff(cutoff)
    result = adverse_action_reasons(attr_original, attr_pruned, ws.original_scores[rows], sp[rows], c, groups, k,
                                    n_declined_total=int(decline(ws.original_scores, c).sum()))
    # report file row numbers (the ids the flips table uses), not positions among the evaluation rows
    applicants = result.applicants.copy()
    applicants["row"] = ws.eval_row_ids[applicants["row"].to_numpy(dtype=np.int64)].astype(np.int64)
    return replace(result, applicants=applicants)


@memoized(64)
def reasons_for(ws: Workspace, pruned: PrunedModel, sample: ExplainSample, cutoff: float, k: int = DEFAULT_REASONS) -> ReasonStability:
    """Adverse-action reason stability on a SHAP sample of the evaluation rows (attributions memoised too)."""
    return adverse_action_reasons_for(ws, pruned.scores, attributions_for(ws, None, sample), attributions_for(ws, pruned, sample),
                                      cutoff, k=k)


@dataclass(frozen=True, eq=False)
class OutOfTimeSample:
    """An out-of-time upload: its raw rows, named by the SHA-256 of the file so results can be cached."""

    name: str
    sha256: str
    frame: pd.DataFrame

    @property
    def key(self) -> str:
        return self.sha256


def prepare_oot(ws: Workspace, oot_frame: pd.DataFrame) -> Dataset:
    """The out-of-time rows through exactly the workspace's mapping (schema, or the same numeric columns),
    its missing-value handling and its reading of the target (bad vs rest)."""
    if not isinstance(oot_frame, pd.DataFrame):
        raise DataError("The out-of-time data is not a table.", "Upload it as CSV, Parquet or Excel.")
    schema = ws.model.schema
    try:
        return prepare_dataset(
            oot_frame, ws.data.target, ws.data.bad_value,
            schema=schema, feature_columns=None if schema is not None else list(ws.data.input_names),
            n_inputs=ws.model.n_inputs, missing=ws.data.missing.strategy, one_vs_rest=ws.data.one_vs_rest,
        )
    except DataError as err:
        raise DataError(f"The out-of-time dataset does not fit the model: {err.message}",
                        err.hint or "Use the same columns and target as the evaluation data.") from err


def _raw_variables(ws: Workspace) -> tuple[list[str], dict[str, str]]:
    schema = ws.model.schema
    if schema is not None:
        return schema.raw_columns, {f.name: CATEGORICAL if f.kind == "code" else f.kind for f in schema.features}
    return list(ws.data.input_names), dict.fromkeys(ws.data.input_names, NUMERIC)


def out_of_time(ws: Workspace, pruned_module: Any, oot_frame: pd.DataFrame, cutoff: float) -> OutOfTime:
    """Every risk metric on the out-of-time data for both models, score PSI and characteristic PSI.

    The reference is the workspace's evaluation rows (the sample the committee already sees);
    ``pruned_module`` is the pruned network (or a ``PrunedModel``), which keeps the original's
    input interface.
    """
    module = getattr(getattr(pruned_module, "result", None), "module", pruned_module)
    c = check_cutoff(cutoff)
    oot = prepare_oot(ws, oot_frame)
    kind = ws.output.kind
    ref_o = ws.original_scores
    ref_p = predict_pbad(module, ws.X_eval, kind)
    oot_o = predict_pbad(ws.model.module, oot.X, kind)
    oot_p = predict_pbad(module, oot.X, kind)
    variables, kinds = _raw_variables(ws)
    chars = characteristic_psi(eval_frame(ws), oot.frame, columns=variables, kinds=kinds)
    notes = [f"Reference: the {len(ref_o)} evaluation rows; out-of-time: {oot.n_rows} rows, same {'schema' if ws.model.schema else 'input columns'}."]
    if oot.n_rows < 100:
        notes.append(f"Only {oot.n_rows} out-of-time rows: PSI and metrics are noisy.")
    return OutOfTime(
        cutoff=c, n_reference=len(ref_o), n_oot=oot.n_rows,
        reference_original=risk_metrics(ws.y_eval, ref_o, cutoff=c), reference_pruned=risk_metrics(ws.y_eval, ref_p, cutoff=c),
        oot_original=risk_metrics(oot.y, oot_o, cutoff=c), oot_pruned=risk_metrics(oot.y, oot_p, cutoff=c),
        score_psi_original=psi(ref_o, oot_o), score_psi_pruned=psi(ref_p, oot_p),
        characteristics=chars, oot_scores_original=oot_o, oot_scores_pruned=oot_p, notes=tuple(notes),
    )


@memoized(8)
def out_of_time_for(ws: Workspace, pruned: PrunedModel, oot: OutOfTimeSample, cutoff: float) -> OutOfTime:
    """``out_of_time`` for an uploaded later sample, cached by the file's hash."""
    return out_of_time(ws, pruned, oot.frame, cutoff)
