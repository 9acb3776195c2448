"""SHAP attributions on the log-odds scale, and the dispatcher that picks the explainer.

Attributions are additive: the values of a row sum to its log-odds minus the background's mean
log-odds. Which explainer runs (the result always says which, and whether its values are exact):
  1. ``fast-deepshap``: exact DeepSHAP batched over (row, background) pairs for plain chains
     (``core.explain.deepshap``), fast enough to follow the pruning slider;
  2. ``shap.DeepExplainer`` for other eager graphs built from layers it hooks, accepted only if its
     values add up to the model output;
  3. ``sampled-shapley`` for anything else — embeddings, attention, residual streams, TorchScript
     uploads: interventional Shapley values of each variable on the raw columns by stratified
     permutation sampling (``core.explain.sampling``), additive exactly, seeded, with a standard
     error per value; ``exact`` is False and ``error_bound`` gives the largest 95 % half-width.
``shap.PermutationExplainer`` stays available as ``method="permutation"`` (a reference, slower).
Results are cached by the model's weights, the rows and the settings (``CACHE_ENTRIES``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.cache import named_memo
from core.errors import ExplainError
from core.explain.deepshap import DEFAULT_MAX_CHUNK_BYTES, UnsupportedNetwork, deepshap
from core.explain.explainers import NotApplicable, fast_chain, shap_deep, shap_permutation
from core.explain.sample import DEFAULT_BACKGROUND, ExplainSample
from core.explain.sampling import DEFAULT_BUDGET_MACS, sampled_shapley, variable_codes, walks_for
from core.hashing import digest
from core.model.cost import counted_multiply_adds
from core.model.loading import LoadedModel
from core.model.outputs import OUTPUT_KINDS, predict_logit, raw_outputs
from core.model.serialization import module_hash
from core.progress import Progress

FAST_PATH = "fast-deepshap"
SHAP_DEEP = "shap.DeepExplainer"
SHAP_PERMUTATION = "shap.PermutationExplainer"
SAMPLED = "sampled-shapley"
EXPLAINER_LABELS = {
    FAST_PATH: "exact DeepSHAP, computed layer by layer for many applicants at once (batched rescale rule; same values as shap.DeepExplainer)",
    SHAP_DEEP: "exact DeepSHAP (shap.DeepExplainer)",
    SHAP_PERMUTATION: "Shapley values estimated by shap.PermutationExplainer (sampled permutations)",
    SAMPLED: "Shapley values of each variable on the raw columns, estimated by stratified permutation sampling",
}
EXPLAINERS = ("auto", "fast", "deep", "sampled", "permutation")
CACHE_ENTRIES = 16
_CACHE = named_memo("core.explain.attributions.explain", CACHE_ENTRIES)


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
    Sampled values carry ``standard_errors`` (same shape as ``values``) and ``error_bound``, the
    largest 95 % half-width; a model explained per variable directly has ``level`` "variable".
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
    standard_errors: np.ndarray | None = None
    error_bound: float | None = None

    def __post_init__(self) -> None:
        """Own read-only copies: cached results are shared, so nobody may edit them in place."""
        dtypes = {"values": np.float64, "outputs": np.float64, "row_index": np.int64, "background_index": np.int64,
                  "standard_errors": np.float64}
        for name in ("values", "outputs", "row_index", "background_index", "inputs", "standard_errors"):
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
            if list(dict.fromkeys(groups)) == list(self.feature_names):
                return self  # explained per variable already (sampled on the raw columns)
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
        errors = None
        if self.standard_errors is not None:  # independent-error bound on a sum: root of summed variances
            var = np.zeros_like(summed)
            for j in range(self.n_features):
                var[:, codes[j]] += self.standard_errors[:, j] ** 2
            errors = np.sqrt(var)
        return replace(self, values=summed, feature_names=tuple(names), inputs=None, level="variable",
                       standard_errors=errors)

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
    """Variable names in first-appearance order and each input's variable index."""
    return variable_codes(groups, len(groups))


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
    groups: Sequence[str] | None = None,
    budget_macs: float = DEFAULT_BUDGET_MACS,
    cache: bool = True,
) -> Attributions:
    """Attributions of log(P(bad)/P(good)) for rows ``X`` against ``background``; never mutates the model.

    ``method``: "auto" (fast path, else shap.DeepExplainer for eager graphs it can hook, else
    sampled Shapley values on the raw columns), or force one of "fast", "deep", "sampled",
    "permutation" (shap.PermutationExplainer; ExplainError if a forced one cannot run).
    ``precision`` applies to the fast path (see ``core.deepshap``); ``seed`` and ``max_evals``
    to the sampling explainers; ``groups`` (the variable of each input) makes the sampler switch
    a variable's inputs together — results are per variable when a variable has several inputs;
    ``budget_macs`` caps what the sampler may spend (in counted multiply-adds);
    ``progress(done, total, what)`` is called as rows complete; ``cache`` False recomputes (timing).
    """
    module = model.module if isinstance(model, LoadedModel) else model
    key = None if not cache else _cache_key(module, X, background, kind, feature_names, row_index, background_index, method, precision, seed,
                     max_evals, groups, budget_macs)
    def compute() -> Attributions:
        return _explain(module, X, background, kind, feature_names, row_index, background_index, method, precision, seed,
                        max_evals, progress, max_chunk_bytes, groups, budget_macs)

    return compute() if key is None else _CACHE.get_or_compute(key, compute)


def _cache_key(module, X, background, kind, feature_names, row_index, background_index, method, precision, seed,
               max_evals, groups, budget_macs) -> str | None:
    """Identity of an explanation: the model's class, code and weights, the rows and every setting."""
    try:
        code = getattr(module, "code", "") if isinstance(module, torch.jit.ScriptModule) else ""
        parts = [type(module).__name__, str(code), module_hash(module), np.asarray(X), np.asarray(background),
                 repr((kind, None if feature_names is None else tuple(map(str, feature_names)), method, precision, int(seed),
                       max_evals, None if groups is None else tuple(map(str, groups)), float(budget_macs))),
                 np.asarray(row_index if row_index is not None else [], dtype=np.int64),
                 np.asarray(background_index if background_index is not None else [], dtype=np.int64)]
        return digest(parts)
    except Exception:  # an unhashable model simply is not cached
        return None


def _explain(module, X, background, kind, feature_names, row_index, background_index, method, precision, seed,
             max_evals, progress, max_chunk_bytes, groups, budget_macs) -> Attributions:
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
    if method == "permutation":
        phi, f_x, base, evals = shap_permutation(module, X, background, kind, seed, max_evals, progress)
        reasons.append(f"{evals} model evaluations per row, seed {seed}")
        return Attributions(phi, base, f_x, SHAP_PERMUTATION, False, note="; ".join(reasons), **common)
    return _sampled(module, X, background, kind, names, groups, seed, max_evals, budget_macs, progress, reasons, common)


def _sampled(module, X, background, kind, names, groups, seed, max_evals, budget_macs, progress, reasons, common) -> Attributions:
    """Stratified permutation-sampling Shapley values per variable (``core.explain.sampling``)."""
    m = X.shape[1]
    if groups is not None and len(groups) != m:
        raise ExplainError(f"{len(groups)} groups were given for {m} inputs.", "Pass the variable of each model input.")
    variables, codes = variable_codes(groups if groups is not None else names, m)
    per_variable = len(variables) < m
    macs = counted_multiply_adds(module, X[:1]) if len(X) else None
    per_row, orders = walks_for(len(X), len(background), len(variables), macs, budget_macs)
    if max_evals:  # a caller asking for at least this many model rows per applicant
        wanted = -(-int(max_evals) // max(len(variables) - 1, 1))
        if wanted >= 2 * len(background):
            per_row, orders = len(background), 2
        elif wanted > per_row * orders:
            per_row, orders = min(len(background), wanted), 1

    def logit(Z: np.ndarray) -> np.ndarray:
        return predict_logit(module, np.asarray(Z, dtype=np.float32), kind)

    try:
        est = sampled_shapley(logit, X, background, groups if groups is not None else names, seed=seed,
                              background_per_row=per_row, orders=orders, progress=progress)
    except Exception as exc:
        raise ExplainError(
            f"The model could not be explained ({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}).",
            "Check that the model scores these rows without errors.",
        ) from exc
    bound = est.max_half_width
    reasons.append(
        f"{est.walks_per_row} walks per applicant ({est.background_per_row} of {len(background)} background rows × "
        f"{est.walks_per_row // max(est.background_per_row, 1)} "
        f"{'antithetic orders' if est.walks_per_row > est.background_per_row else 'random order'}), "
        f"{est.model_rows:,} model rows, seed {seed}; "
        f"error bound ±{bound:.2g} on the log-odds (95 %, largest over applicants and variables; mean ±{est.mean_half_width:.2g})"
        + ("; base value from all background rows, values made additive by the variance-weighted correction"
           if est.corrected else "")
    )
    note = "; ".join(reasons)
    if per_variable:
        common = dict(common, feature_names=tuple(variables), inputs=None)
        return Attributions(est.values, est.base_value, est.outputs, SAMPLED, False, note=note, level="variable",
                            standard_errors=est.standard_errors, error_bound=bound, **common)
    return Attributions(est.values, est.base_value, est.outputs, SAMPLED, False, note=note,
                        standard_errors=est.standard_errors, error_bound=bound, **common)


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
