"""SHAP attributions on the log-odds scale, and the dispatcher that picks the explainer.

Attributions are additive: the values of a row sum to its log-odds minus the background's mean
log-odds. Which explainer runs (the result always says which, and whether its values are exact):
  1. ``fast-deepshap``: exact DeepSHAP batched over (row, background) pairs for plain chains
     (``core.explain.deepshap``), fast enough to follow the pruning slider;
  2. ``shap.DeepExplainer`` for other eager graphs built from layers it hooks, accepted only if its
     values add up to the model output;
  3. ``shap.PermutationExplainer`` on the log-odds function for anything else: model-agnostic,
     additive, seeded, but a sampling estimate, so ``exact`` is False.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from core.errors import ExplainError
from core.explain.deepshap import DEFAULT_MAX_CHUNK_BYTES, UnsupportedNetwork, deepshap
from core.explain.explainers import NotApplicable, fast_chain, shap_deep, shap_permutation
from core.explain.sample import DEFAULT_BACKGROUND, ExplainSample
from core.model.loading import LoadedModel
from core.model.outputs import OUTPUT_KINDS, raw_outputs
from core.progress import Progress

FAST_PATH = "fast-deepshap"
SHAP_DEEP = "shap.DeepExplainer"
SHAP_PERMUTATION = "shap.PermutationExplainer"
EXPLAINER_LABELS = {
    FAST_PATH: "exact DeepSHAP, computed layer by layer for many applicants at once (batched rescale rule; same values as shap.DeepExplainer)",
    SHAP_DEEP: "exact DeepSHAP (shap.DeepExplainer)",
    SHAP_PERMUTATION: "Shapley values estimated by shap.PermutationExplainer (sampled permutations)",
}
EXPLAINERS = ("auto", "fast", "deep", "permutation")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Attributions:
    """Attributions of one model on the log-odds (logit of P(bad)) scale.

    Additive: ``values[r].sum() == outputs[r] - base_value`` (to float rounding). ``exact`` is
    True for DeepSHAP values (fast path or shap.DeepExplainer), False for sampled estimates.
    ``inputs`` are the explained rows' model inputs (feature level only; None once grouped).
    """

    values: np.ndarray
    base_value: float
    outputs: np.ndarray
    explainer: str
    exact: bool
    row_index: np.ndarray
    feature_names: tuple[str, ...]
    background_index: np.ndarray | None = None
    inputs: np.ndarray | None = None
    level: str = "feature"
    note: str = ""

    def __post_init__(self) -> None:
        """Own read-only copies: cached results are shared, so nobody may edit them in place."""
        dtypes = {"values": np.float64, "outputs": np.float64, "row_index": np.int64, "background_index": np.int64}
        for name in ("values", "outputs", "row_index", "background_index", "inputs"):
            value = getattr(self, name)
            if value is None:
                continue
            arr = np.asarray(value, dtype=dtypes.get(name))
            if arr is not value or arr.flags.writeable:
                object.__setattr__(self, name, _readonly(arr))
        object.__setattr__(self, "feature_names", tuple(str(f) for f in self.feature_names))
        object.__setattr__(self, "base_value", float(self.base_value))
        if self.values.ndim != 2 or self.values.shape != (len(self.outputs), len(self.feature_names)):
            raise ExplainError(
                f"Attributions of shape {self.values.shape} do not match {len(self.outputs)} outputs "
                f"and {len(self.feature_names)} feature names.",
                "Build attributions with explain().",
            )

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[1])

    @property
    def label(self) -> str:
        return EXPLAINER_LABELS.get(self.explainer, self.explainer)

    @property
    def additivity_gap(self) -> float:
        """max |Σφ − (f(x) − base)|: how far the values are from adding up (≈1e-7 when exact)."""
        if self.n_rows == 0:
            return 0.0
        return float(np.abs(self.values.sum(axis=1) - (self.outputs - self.base_value)).max())

    def position(self, row: int) -> int:
        """Position of evaluation-data row ``row`` among the explained rows."""
        hits = np.flatnonzero(self.row_index == int(row))
        if not len(hits):
            raise ExplainError(
                f"Applicant {row} is not among the {self.n_rows} explained rows.",
                "Pick one of the explained applicants, or explain more rows.",
            )
        return int(hits[0])

    def grouped(self, groups: Sequence[str] | None) -> Attributions:
        """Attributions summed per original variable (one-hot dummies → their variable).

        Summing is exact for additive attributions: a variable's φ is the joint contribution of its
        inputs. ``groups`` gives each input's variable (``schema.groups``); None means every input is
        its own variable. Variables keep the order of their first input.
        """
        if groups is None:
            groups = list(self.feature_names)
        groups = [str(g) for g in groups]
        if self.level != "feature":
            raise ExplainError("These attributions are already grouped by variable.", "Group the feature-level attributions.")
        if len(groups) != self.n_features:
            raise ExplainError(
                f"The grouping names {len(groups)} inputs but the model has {self.n_features}.",
                "Use the groups of the schema the model was exported with.",
            )
        names, codes = group_codes(groups)
        summed = np.zeros((self.n_rows, len(names)), dtype=np.float64)
        for j in range(self.n_features):  # column by column: sums in input order, deterministic
            summed[:, codes[j]] += self.values[:, j]
        return replace(self, values=summed, feature_names=tuple(names), inputs=None, level="variable")

    def mean_abs(self) -> pd.Series:
        """Global importance: mean |φ| per feature (or variable) over the explained rows."""
        return pd.Series(np.abs(self.values).mean(axis=0) if self.n_rows else np.zeros(self.n_features),
                         index=list(self.feature_names), name="mean_abs_shap")

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (applicant, feature) with φ and, at feature level, the input value."""
        n, m = self.values.shape
        frame = pd.DataFrame({
            "row": np.repeat(self.row_index, m),
            self.level: np.tile(np.asarray(self.feature_names, dtype=object), n),
            "shap": self.values.reshape(-1),
        })
        if self.inputs is not None:
            frame["value"] = self.inputs.reshape(-1).astype(np.float64)
        return frame


def group_codes(groups: Sequence[str]) -> tuple[list[str], np.ndarray]:
    names: list[str] = []
    index: dict[str, int] = {}
    codes = np.empty(len(groups), dtype=np.int64)
    for j, g in enumerate(groups):
        if g not in index:
            index[g] = len(names)
            names.append(g)
        codes[j] = index[g]
    return names, codes


def _as_matrix(a: Any, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ExplainError(f"The {what} must be a table (rows × inputs), not shape {arr.shape}.", "Pass a 2-D array.")
    if not np.issubdtype(arr.dtype, np.number):
        raise ExplainError(f"The {what} hold non-numeric values.", "Pass the model-ready input matrix.")
    if not np.isfinite(arr).all():
        raise ExplainError(f"The {what} contain missing or infinite values.", "Impute or drop those rows first.")
    return arr


def _expected_width(kind: str) -> int:
    if kind not in OUTPUT_KINDS:
        raise ExplainError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")
    return 2 if kind.startswith("two_class") else 1


def _check_model(module: nn.Module, sample_rows: np.ndarray, kind: str) -> None:
    """The model runs on the data and returns as many values as its output kind says."""
    try:
        raw = raw_outputs(module, sample_rows)
    except Exception as exc:
        raise ExplainError(
            f"The model failed on the rows to explain ({str(exc).splitlines()[0][:160]}).",
            "Check that the data has exactly the model's inputs, in training order.",
        ) from exc
    width = _expected_width(kind)
    if raw.shape[1] != width:
        raise ExplainError(
            f"The model returns {raw.shape[1]} value(s) per applicant, but its output kind '{kind}' needs {width}.",
            "Correct the detected output kind on the Data & model page.",
        )


def explain(
    model: nn.Module | LoadedModel,
    X: np.ndarray,
    background: np.ndarray,
    kind: str,
    *,
    feature_names: Sequence[str] | None = None,
    row_index: Sequence[int] | None = None,
    background_index: Sequence[int] | None = None,
    method: str = "auto",
    precision: str = "float32",
    seed: int = 0,
    max_evals: int | None = None,
    progress: Progress | None = None,
    max_chunk_bytes: int = DEFAULT_MAX_CHUNK_BYTES,
) -> Attributions:
    """Attributions of log(P(bad)/P(good)) for rows ``X`` against ``background``; never mutates the model.

    ``method``: "auto" (fast path, else shap.DeepExplainer, else shap.PermutationExplainer),
    or force one of "fast", "deep", "permutation" (ExplainError if it cannot run).
    ``precision`` applies to the fast path (see ``core.deepshap``); ``seed`` and ``max_evals``
    to the permutation fallback; ``progress(done, total, what)`` is called as rows complete.
    """
    module = model.module if isinstance(model, LoadedModel) else model
    if method not in EXPLAINERS:
        raise ExplainError(f"Unknown attribution method '{method}'.", f"Use one of {', '.join(EXPLAINERS)}.")
    X = _as_matrix(X, "rows to explain")
    background = _as_matrix(background, "background rows")
    n, m = X.shape
    if background.shape[1] != m:
        raise ExplainError(
            f"The background rows have {background.shape[1]} inputs but the explained rows have {m}.",
            "Draw both from the same evaluation data.",
        )
    if len(background) == 0:
        raise ExplainError("The background sample is empty.", f"Use about {DEFAULT_BACKGROUND} background rows.")
    names = tuple(str(f) for f in feature_names) if feature_names is not None else tuple(f"x{j}" for j in range(m))
    if len(names) != m:
        raise ExplainError(f"{len(names)} feature names were given for {m} inputs.", "Pass one name per model input.")
    rows = np.arange(n, dtype=np.int64) if row_index is None else np.asarray(row_index, dtype=np.int64)
    if rows.shape != (n,):
        raise ExplainError(f"{len(rows)} row indices were given for {n} explained rows.", "Pass one index per row.")
    bg_rows = None if background_index is None else np.asarray(background_index, dtype=np.int64)
    _check_model(module, background[: min(len(background), 8)], kind)

    common = dict(row_index=rows, feature_names=names, background_index=bg_rows, inputs=X)
    reasons: list[str] = []
    if method in ("auto", "fast"):
        try:
            chain = fast_chain(module, kind, m)
        except UnsupportedNetwork as exc:
            if method == "fast":
                raise ExplainError(
                    f"The fast exact attribution path cannot walk this model: {exc}.",
                    "Use method 'auto' to fall back to shap's explainers.",
                ) from exc
            reasons.append(f"fast path not used: {exc}")
        else:
            phi, f_x, f_b = deepshap(chain, X, background, precision=precision, max_chunk_bytes=max_chunk_bytes, progress=progress)
            note = f"final {chain.stripped} removed to explain the logit" if chain.stripped else ""
            return Attributions(phi, float(f_b.mean()), f_x, FAST_PATH, True, note=note, **common)
    if method in ("auto", "deep"):
        try:
            phi, f_x, base = shap_deep(module, X, background, kind, progress)
        except NotApplicable as exc:
            if method == "deep":
                raise ExplainError(f"shap's DeepExplainer cannot explain this model: {exc}.", "Use method 'auto'.") from exc
            reasons.append(f"DeepExplainer not used: {exc}")
        else:
            return Attributions(phi, base, f_x, SHAP_DEEP, True, note="; ".join(reasons), **common)
    phi, f_x, base, evals = shap_permutation(module, X, background, kind, seed, max_evals, progress)
    reasons.append(f"{evals} model evaluations per row, seed {seed}")
    return Attributions(phi, base, f_x, SHAP_PERMUTATION, False, note="; ".join(reasons), **common)


def fast_path_applies(model: nn.Module | LoadedModel, kind: str, n_inputs: int) -> bool:
    """True when ``explain`` will take the fast exact path (seconds); otherwise a shap fallback, possibly minutes."""
    module = model.module if isinstance(model, LoadedModel) else model
    try:
        fast_chain(module, kind, n_inputs)
    except UnsupportedNetwork:
        return False
    return True


def explain_rows(
    model: nn.Module | LoadedModel, X: np.ndarray, kind: str, sample: ExplainSample, **kwargs: Any
) -> Attributions:
    """``explain`` on the rows and background that ``sample`` picks out of the evaluation inputs X."""
    X = np.asarray(X)
    if sample.n_available != len(X):
        raise ExplainError(
            f"The sample was drawn from {sample.n_available} rows but the data has {len(X)}.",
            "Draw the sample again for this dataset.",
        )
    return explain(model, X[sample.rows], X[sample.background], kind,
                   row_index=sample.rows, background_index=sample.background, **kwargs)
