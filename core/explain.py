"""SHAP attributions for the original and the pruned model, and how feature importance shifts.

A committee approving a pruned credit model asks "does it still decide for the same reasons?".
This module answers with attributions on the *logit of P(bad)* scale (additive: the values of a
row sum to its log-odds minus the background's mean log-odds), for both models on the same rows
against the same background, then compares mean |φ| per feature or per original variable.

Which explainer runs (the result always says which, and whether its values are exact):
  1. ``fast-deepshap``: exact DeepSHAP (the quantity ``shap.DeepExplainer`` computes) batched
     over (row, background) pairs, for plain chains of Linear / BatchNorm1d / Dropout /
     elementwise activations — every model RiskPrune can rebuild or prune physically. ~20 ms for
     500 rows × 100 background rows on the sample model, so the Explain page can follow the
     pruning slider. See ``core.deepshap``.
  2. ``shap.DeepExplainer`` for other eager ``nn.Module`` graphs built from layers it hooks (e.g.
     a residual block), accepted only if its values add up to the model output.
  3. ``shap.PermutationExplainer`` on the log-odds function for anything else (TorchScript graphs
     that are not chains, unsupported layers): model-agnostic, additive, seeded, but a sampling
     estimate of Shapley values rather than DeepSHAP, so ``exact`` is False.

Rows and background are seeded samples of the evaluation data (``draw_sample``), returned as row
indices so the UI can show exactly which applicants were used.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import nn

from .deepshap import DEFAULT_MAX_CHUNK_BYTES, UnsupportedNetwork, build_chain, deepshap
from .errors import ExplainError
from .model import OUTPUT_KINDS, LoadedModel, predict_logit, raw_outputs, rebuild_eager

DEFAULT_ROWS = 500
DEFAULT_BACKGROUND = 100
FAST_PATH = "fast-deepshap"
SHAP_DEEP = "shap.DeepExplainer"
SHAP_PERMUTATION = "shap.PermutationExplainer"
EXPLAINER_LABELS = {
    FAST_PATH: "exact DeepSHAP (batched rescale rule, same values as shap.DeepExplainer)",
    SHAP_DEEP: "exact DeepSHAP (shap.DeepExplainer)",
    SHAP_PERMUTATION: "Shapley values estimated by shap.PermutationExplainer (sampled permutations)",
}
METHODS = ("auto", "fast", "deep", "permutation")
DEFAULT_PERMUTATION_EVALS = 500  # shap's own default; raised to 2·M + 1 when M is larger
_ADDITIVITY_TOL = 1e-4  # DeepExplainer results further off than this (× output scale) are rejected
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- samples


@dataclass(frozen=True, eq=False)
class ExplainSample:
    """Which rows of the evaluation data are explained and which form the background."""

    rows: np.ndarray
    background: np.ndarray
    seed: int
    n_available: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "role": ["explained"] * len(self.rows) + ["background"] * len(self.background),
            "row": np.concatenate([self.rows, self.background]).astype(np.int64),
        })


def draw_sample(
    n_available: int, n_rows: int = DEFAULT_ROWS, n_background: int = DEFAULT_BACKGROUND, seed: int = 0
) -> ExplainSample:
    """Seeded samples (without replacement, sorted) of rows to explain and background rows.

    The two draws use separate streams of the same seed, so asking for more explained rows keeps
    the background (and with it every base value) unchanged. They may overlap, like two
    independent samples of the same portfolio; an applicant identical to a background row simply
    contributes zero difference for that pair.
    """
    if n_available < 1:
        raise ExplainError("There are no rows to explain.", "Load an evaluation dataset first.")
    if n_rows < 1 or n_background < 1:
        raise ExplainError(
            "At least one explained row and one background row are needed.",
            f"Use e.g. {DEFAULT_ROWS} explained rows and {DEFAULT_BACKGROUND} background rows.",
        )
    seed = int(seed)
    pick = lambda stream, k: np.sort(  # noqa: E731
        np.random.default_rng([seed, stream]).choice(n_available, size=min(k, n_available), replace=False)
    ).astype(np.int64)
    return ExplainSample(rows=pick(0, n_rows), background=pick(1, n_background), seed=seed, n_available=int(n_available))


# --------------------------------------------------------------------------- attributions


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

    def grouped(self, groups: Sequence[str] | None) -> "Attributions":
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
        names, codes = _group_codes(groups)
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


def _group_codes(groups: Sequence[str]) -> tuple[list[str], np.ndarray]:
    names: list[str] = []
    index: dict[str, int] = {}
    codes = np.empty(len(groups), dtype=np.int64)
    for j, g in enumerate(groups):
        if g not in index:
            index[g] = len(names)
            names.append(g)
        codes[j] = index[g]
    return names, codes


# --------------------------------------------------------------------------- explaining


class _NotApplicable(Exception):
    """An explainer cannot handle this model; the message says why (shown as a note)."""


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
    to the permutation fallback; ``progress(done, total)`` is called as rows complete.
    """
    module = model.module if isinstance(model, LoadedModel) else model
    if method not in METHODS:
        raise ExplainError(f"Unknown attribution method '{method}'.", f"Use one of {', '.join(METHODS)}.")
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
            chain = _chain_for(module, kind, m)
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
            phi, f_x, base = _shap_deep(module, X, background, kind, progress)
        except _NotApplicable as exc:
            if method == "deep":
                raise ExplainError(f"shap's DeepExplainer cannot explain this model: {exc}.", "Use method 'auto'.") from exc
            reasons.append(f"DeepExplainer not used: {exc}")
        else:
            return Attributions(phi, base, f_x, SHAP_DEEP, True, note="; ".join(reasons), **common)
    phi, f_x, base, evals = _shap_permutation(module, X, background, kind, seed, max_evals, progress)
    reasons.append(f"{evals} model evaluations per row, seed {seed}")
    return Attributions(phi, base, f_x, SHAP_PERMUTATION, False, note="; ".join(reasons), **common)


def explain_sample(
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


def _chain_for(module: nn.Module, kind: str, n_inputs: int):
    """The fast path's view of the model; TorchScript chains go through their verified eager twin."""
    if isinstance(module, torch.jit.ScriptModule):
        eager, note = rebuild_eager(module, n_inputs)
        if eager is None:
            raise UnsupportedNetwork(note)
        module = eager
    return build_chain(module, kind)


class _LogitHead(nn.Module):
    """Eager wrapper giving shap.DeepExplainer an (N, 1) log-odds output (it fails on 1-D outputs)."""

    def __init__(self, body: nn.Module, two_class: bool) -> None:
        super().__init__()
        self.body = body
        self.diff = None
        if two_class:  # z1 − z0 as a Linear layer, which DeepExplainer passes through linearly
            self.diff = nn.Linear(2, 1, bias=False)
            with torch.no_grad():
                self.diff.weight.copy_(torch.tensor([[-1.0, 1.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x).reshape(x.shape[0], -1)
        return self.diff(out) if self.diff is not None else out


def _shap_deep(module, X, background, kind, progress, chunk: int = 50):
    if isinstance(module, torch.jit.ScriptModule):
        raise _NotApplicable("TorchScript modules cannot carry the hooks it needs")
    if kind not in ("logit", "two_class_logits"):
        raise _NotApplicable("a probability output cannot be turned into a logit inside this network")
    try:
        import shap
        from shap.explainers._deep.deep_pytorch import op_handler
    except ImportError as exc:  # pragma: no cover - shap is a hard dependency
        raise _NotApplicable(f"shap could not be imported ({exc})") from exc
    unknown = sorted({type(l).__name__ for l in module.modules() if not list(l.children())} - set(op_handler))
    if unknown:
        raise _NotApplicable(f"it does not support layer type(s) {', '.join(unknown)}")
    parts = []
    try:
        # autograd must work even when the caller runs under inference_mode / no_grad
        with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
            warnings.simplefilter("ignore")
            head = _LogitHead(copy.deepcopy(module), kind == "two_class_logits").eval()  # hooks go on a copy
            xs = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            bt = torch.from_numpy(np.ascontiguousarray(background, dtype=np.float32))
            explainer = shap.DeepExplainer(head, bt)
            for start in range(0, len(X), chunk):
                vals = explainer.shap_values(xs[start:start + chunk], check_additivity=False)
                parts.append(np.asarray(vals, dtype=np.float64).reshape(-1, X.shape[1]))
                if progress is not None:
                    progress(min(len(X), start + chunk), len(X))
    except Exception as exc:  # shap raises shape/view errors on reused or in-place layers
        raise _NotApplicable(f"it failed on this network ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from exc
    phi = np.concatenate(parts) if parts else np.zeros((0, X.shape[1]))
    f_x = predict_logit(module, X, kind)
    f_b = predict_logit(module, background, kind)
    base = float(f_b.mean())
    gap = np.abs(phi.sum(axis=1) - (f_x - base)).max() if len(X) else 0.0
    scale = max(1.0, float(np.abs(f_x - base).max()) if len(X) else 1.0)
    if gap > _ADDITIVITY_TOL * scale:
        raise _NotApplicable(
            f"its values miss the model output by up to {gap:.2g} (the forward pass likely calls "
            "activations as functions or reuses a layer)"
        )
    return phi, f_x, base


def _shap_permutation(module, X, background, kind, seed, max_evals, progress, chunk: int = 10):
    import shap

    m = X.shape[1]
    evals = max(int(max_evals or DEFAULT_PERMUTATION_EVALS), 2 * m + 1)
    logit = lambda Z: predict_logit(module, np.asarray(Z, dtype=np.float32), kind)  # noqa: E731
    state = np.random.get_state()  # shap seeds numpy's global generator: restore it afterwards
    parts, bases = [], []
    try:
        masker = shap.maskers.Independent(np.asarray(background, dtype=np.float64), max_samples=len(background))
        explainer = shap.PermutationExplainer(logit, masker, seed=int(seed))
        for start in range(0, len(X), chunk):
            out = explainer(np.asarray(X[start:start + chunk], dtype=np.float64), max_evals=evals, silent=True)
            parts.append(np.asarray(out.values, dtype=np.float64).reshape(-1, m))
            bases.append(np.asarray(out.base_values, dtype=np.float64).reshape(-1))
            if progress is not None:
                progress(min(len(X), start + chunk), len(X))
    except Exception as exc:
        raise ExplainError(
            f"The model could not be explained ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}).",
            "Check that the model scores these rows without errors.",
        ) from exc
    finally:
        np.random.set_state(state)
    phi = np.concatenate(parts) if parts else np.zeros((0, m))
    f_x = logit(X)
    base = float(logit(background).mean())
    return phi, f_x, base, evals


# --------------------------------------------------------------------------- importance shift


@dataclass(frozen=True, eq=False)
class ImportanceShift:
    """How global importance (mean |φ|) moved from the original to the pruned model.

    ``table`` has one row per feature (or variable), ordered by original rank: importance of
    each model, absolute and relative change, share of total importance (fractions; the change in
    ``share_change`` is in fraction points, 0.05 = 5 percentage points), rank (1 = most important,
    ties share the best rank), ``rank_change = rank_original − rank_pruned`` (positive = moved up),
    and whether it is flagged (|rank change| ≥ ``rank_threshold`` or |share change| ≥
    ``share_threshold``). Spearman's ρ and Kendall's τ-b compare the importance vectors; top-k
    overlap is the share of the original top k that is also in the pruned top k.
    """

    table: pd.DataFrame
    spearman: float
    kendall: float
    top_overlap: dict[int, float]
    flagged: tuple[str, ...]
    level: str
    rank_threshold: int
    share_threshold: float
    n_rows: int
    explainer_original: str = ""
    explainer_pruned: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def long_frame(self) -> pd.DataFrame:
        """Tidy (feature, model, importance, share, rank) rows for grouped bar charts."""
        parts = []
        for model in ("original", "pruned"):
            parts.append(pd.DataFrame({
                self.level: self.table[self.level],
                "model": model,
                "importance": self.table[f"importance_{model}"],
                "share": self.table[f"share_{model}"],
                "rank": self.table[f"rank_{model}"],
            }))
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {"spearman": self.spearman, "kendall": self.kendall}
        for k, v in sorted(self.top_overlap.items()):
            out[f"top{k}_overlap"] = v
        out["n_flagged"] = len(self.flagged)
        out["n_features"] = int(len(self.table))
        out["n_rows"] = self.n_rows
        return out

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"statistic": list(self.summary()), "value": [float(v) for v in self.summary().values()]})


def _same_sample(a: Attributions, b: Attributions) -> None:
    if a.feature_names != b.feature_names:
        raise ExplainError(
            "The two attribution sets describe different inputs.",
            "Explain the original and the pruned model on the same dataset.",
        )
    if a.n_rows != b.n_rows or not np.array_equal(a.row_index, b.row_index):
        raise ExplainError(
            "The original and the pruned model were explained on different applicants.",
            "Explain both on the same sample (same seed and sizes).",
        )
    if a.background_index is not None and b.background_index is not None and not np.array_equal(a.background_index, b.background_index):
        raise ExplainError(
            "The original and the pruned model were explained against different background rows.",
            "Explain both with the same sample so their base values are comparable.",
        )


def _ranks(importance: np.ndarray) -> np.ndarray:
    """1 = most important; tied features share the best rank (so ties never look like moves)."""
    return stats.rankdata(-importance, method="min").astype(np.int64)


def _top(importance: np.ndarray, k: int) -> set[int]:
    order = np.argsort(-importance, kind="stable")  # ties broken by input order: deterministic
    return set(order[:k].tolist())


def _corr(fn, a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(a, b)[0])


def importance_shift(
    original: Attributions,
    pruned: Attributions,
    groups: Sequence[str] | None = None,
    *,
    rank_threshold: int = 3,
    share_threshold: float = 0.05,
    top_k: Sequence[int] = (5, 10),
) -> ImportanceShift:
    """Compare mean |φ| of the two models per feature, or per variable when ``groups`` is given."""
    _same_sample(original, pruned)
    if rank_threshold < 1 or not (0 < share_threshold <= 1):
        raise ExplainError("Flag thresholds are out of range.", "Use a rank move of at least 1 and a share between 0 and 1.")
    if groups is not None:
        original, pruned = original.grouped(groups), pruned.grouped(groups)
    names = list(original.feature_names)
    imp_o = original.mean_abs().to_numpy()
    imp_p = pruned.mean_abs().to_numpy()
    tot_o, tot_p = imp_o.sum(), imp_p.sum()
    share_o = imp_o / tot_o if tot_o > 0 else np.zeros_like(imp_o)
    share_p = imp_p / tot_p if tot_p > 0 else np.zeros_like(imp_p)
    rank_o, rank_p = _ranks(imp_o), _ranks(imp_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(imp_o > 0, (imp_p - imp_o) / np.where(imp_o > 0, imp_o, 1.0), np.nan)
    rank_change = rank_o - rank_p
    share_change = share_p - share_o
    eps = 1e-12
    moved_rank = np.abs(rank_change) >= rank_threshold
    moved_share = np.abs(share_change) >= share_threshold - eps
    reasons = []
    for r, s, rc, sc in zip(moved_rank, moved_share, rank_change, share_change):
        parts = []
        if r:
            parts.append(f"rank {'up' if rc > 0 else 'down'} {abs(int(rc))}")
        if s:
            parts.append(f"share {'+' if sc > 0 else '−'}{abs(sc) * 100:.1f} pp")
        reasons.append(", ".join(parts))
    level = original.level
    table = pd.DataFrame({
        level: names,
        "importance_original": imp_o,
        "importance_pruned": imp_p,
        "abs_change": imp_p - imp_o,
        "rel_change": rel,
        "share_original": share_o,
        "share_pruned": share_p,
        "share_change": share_change,
        "rank_original": rank_o,
        "rank_pruned": rank_p,
        "rank_change": rank_change,
        "flagged": moved_rank | moved_share,
        "flag_reason": reasons,
    })
    table = table.iloc[np.lexsort((np.arange(len(names)), rank_o))].reset_index(drop=True)
    overlap = {}
    for k in top_k:
        k_eff = min(int(k), len(names))
        overlap[int(k)] = len(_top(imp_o, k_eff) & _top(imp_p, k_eff)) / k_eff if k_eff else float("nan")
    return ImportanceShift(
        table=table,
        spearman=_corr(stats.spearmanr, imp_o, imp_p),
        kendall=_corr(stats.kendalltau, imp_o, imp_p),
        top_overlap=overlap,
        flagged=tuple(table.loc[table["flagged"], level].tolist()),
        level=level,
        rank_threshold=int(rank_threshold),
        share_threshold=float(share_threshold),
        n_rows=original.n_rows,
        explainer_original=original.explainer,
        explainer_pruned=pruned.explainer,
    )


# --------------------------------------------------------------------------- one applicant


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True, eq=False)
class ApplicantComparison:
    """One applicant's attributions under both models, with both base values and outputs (log-odds)."""

    row: int
    table: pd.DataFrame
    base_value_original: float
    base_value_pruned: float
    output_original: float
    output_pruned: float
    level: str

    @property
    def pbad_original(self) -> float:
        return _sigmoid(self.output_original)

    @property
    def pbad_pruned(self) -> float:
        return _sigmoid(self.output_pruned)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> dict[str, float]:
        return {
            "row": self.row,
            "base_value_original": self.base_value_original,
            "base_value_pruned": self.base_value_pruned,
            "output_original": self.output_original,
            "output_pruned": self.output_pruned,
            "pbad_original": self.pbad_original,
            "pbad_pruned": self.pbad_pruned,
        }


def _variable_values(x: np.ndarray, feature_names: Sequence[str], groups: Sequence[str], raw: Mapping[str, Any] | None) -> list[Any]:
    """What to show as a variable's value: the raw value when known, else the active dummy's category."""
    names, codes = _group_codes([str(g) for g in groups])
    out: list[Any] = []
    for gi, name in enumerate(names):
        if raw is not None and name in raw:
            out.append(raw[name])
            continue
        members = np.flatnonzero(codes == gi)
        if len(members) == 1:
            out.append(float(x[members[0]]))
            continue
        active = [str(feature_names[j]) for j in members if x[j] == 1.0]
        labels = [a.split("=", 1)[1] if a.startswith(f"{name}=") else a for a in active]
        out.append(", ".join(labels) if labels else "")
    return out


def compare_applicant(
    original: Attributions,
    pruned: Attributions,
    row: int,
    groups: Sequence[str] | None = None,
    raw: Mapping[str, Any] | None = None,
) -> ApplicantComparison:
    """One applicant's φ under both models as a tidy table (feature or variable, value, φ each).

    ``row`` is the applicant's row in the evaluation data (one of ``original.row_index``).
    ``groups`` switches to the variable view; ``raw`` (e.g. ``dataset.frame.iloc[row]``) supplies
    the raw value of each variable, else the active category of one-hot dummies is shown.
    """
    _same_sample(original, pruned)
    pos = original.position(row)
    x = original.inputs[pos] if original.inputs is not None else np.full(original.n_features, np.nan)
    if groups is not None:
        values = _variable_values(x, original.feature_names, groups, raw)
        o, p = original.grouped(groups), pruned.grouped(groups)
    else:
        values = [float(v) for v in x]
        o, p = original, pruned
    table = pd.DataFrame({
        o.level: list(o.feature_names),
        "value": pd.Series(values, dtype=object if groups is not None else np.float64),
        "shap_original": o.values[pos],
        "shap_pruned": p.values[pos],
    })
    table["shap_change"] = table["shap_pruned"] - table["shap_original"]
    return ApplicantComparison(
        row=int(row),
        table=table,
        base_value_original=float(original.base_value),
        base_value_pruned=float(pruned.base_value),
        output_original=float(original.outputs[pos]),
        output_pruned=float(pruned.outputs[pos]),
        level=o.level,
    )
