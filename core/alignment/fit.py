"""Fitting a score map for a pruned model on rows it is not judged on, and appending it to the model.

Two questions, two families of maps, all acting on the log-odds of bad z read off the pruned
model's raw output:

* *align to the original* — make the pruned score speak the original's scale: ordinary least
  squares of the original log-odds on the pruned log-odds (z ↦ a·z + b), or a monotone isotonic
  regression of the same (pool-adjacent-violators; Ayer, Brunk, Ewing, Reid & Silverman 1955,
  "An empirical distribution function for sampling with incomplete information", Ann. Math.
  Stat. 26), with every block holding at least ``MIN_ROWS_PER_KNOT`` rows and centred so the
  map rises between blocks instead of jumping (see ``isotonic_knots``). An affine map on log-odds is exactly how a scorecard's scale is re-anchored
  (points = offset + factor · ln(odds); Siddiqi 2017, *Intelligent Credit Scoring*, 2nd ed., ch. 10).
* *recalibrate to outcomes* — make P(bad) match observed default rates: Platt scaling, a
  logistic regression of the outcome on z with Platt's smoothed targets (Platt 1999,
  "Probabilistic outputs for support vector machines and comparisons to regularized likelihood
  methods"; fitted by Newton's method with backtracking as in Lin, Lin & Weng 2007, "A note on
  Platt's probabilistic outputs for support vector machines", Machine Learning 68), or isotonic
  regression of the outcome on z (Zadrozny & Elkan 2002, "Transforming classifier scores into
  accurate multiclass probability estimates", KDD).

A positive affine map leaves the ranking — AUC, Gini, KS — untouched and moves only the scale
(cutoffs, PD grades, PSI). A map with a non-positive slope would reverse or erase the ranking and
is refused; an isotonic map must be non-decreasing and rise overall. Isotonic fits on large files
have thousands of knots; they are thinned to at most ``MAX_KNOTS`` by greedy insertion of the knot
with the largest vertical error (the vertical-distance variant of Ramer 1972 / Douglas & Peucker
1973), which keeps a subset of the fitted knots and therefore stays monotone; the largest
difference from the full fit is measured exactly and reported.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import special
from torch import nn

from core.alignment.maps import AffineLogitMap, PiecewiseLinearLogitMap, build_aligned, logit_reader
from core.alignment.rows import MIN_FIT_ROWS, AlignmentRows, rows_for
from core.alignment.spec import AFFINE, SHAPE_LABELS, TO_ORIGINAL, TO_OUTCOMES, AlignmentSpec
from core.errors import DataError, ModelError, SpecError
from core.hashing import digest
from core.metrics._validation import as_labels
from core.metrics.calibration import _brier_kernel, _log_loss_kernel
from core.metrics.ranking import _auc_kernel
from core.metrics.stability import psi
from core.model.loading import LoadedModel
from core.model.outputs import OUTPUT_KINDS, logit_from_raw, pbad_from_raw, raw_outputs

MAX_KNOTS = 256
MIN_ROWS_PER_KNOT = 10
FORMAT = "riskprune-alignment/1"
FIT_METRIC_LABELS = {
    "logit_mean": "Mean log-odds", "logit_sd": "Spread of log-odds (SD)", "logit_rmse": "RMS log-odds difference to the original",
    "psi": "Score PSI against the original", "mean_pd": "Mean P(bad)", "bad_rate": "Observed bad rate",
    "auc": "AUC", "brier": "Brier score", "log_loss": "Log-loss",
}


class _ReadLogit(nn.Module):
    """The model followed by the log-odds reader: exactly the z the appended map will see."""

    def __init__(self, module: nn.Module, kind: str) -> None:
        super().__init__()
        self.module = module
        self.reader = logit_reader(kind)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reader(self.module(x))


def _log_odds(module: nn.Module, X: np.ndarray, kind: str, who: str) -> np.ndarray:
    try:
        z = raw_outputs(_ReadLogit(module, kind), X)[:, 0]
    except ModelError:
        raise
    except Exception as exc:  # a module that fails on these rows is a model problem, said plainly
        raise ModelError(f"The {who} model failed on the alignment rows ({str(exc).splitlines()[0][:160]}).",
                         "Check that the model and the data belong together.") from exc
    if not np.isfinite(z).all():
        raise ModelError(f"The {who} model gives NaN or infinite scores on {int((~np.isfinite(z)).sum())} alignment rows.",
                         "Check the model's weights and the inputs' scaling.")
    return z


# --------------------------------------------------------------------------- the fits


def least_squares_affine(z: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Ordinary least squares of ``target`` on ``z``: slope cov(z, t)/var(z), intercept mean(t) − slope·mean(z)."""
    zc = z - z.mean()
    slope = float(np.dot(zc, target - target.mean()) / np.dot(zc, zc))
    return slope, float(target.mean() - slope * z.mean())


def platt_scaling(z: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Platt's sigmoid P(bad) = sigmoid(a·z + b) with smoothed targets, by Newton's method with backtracking.

    Targets are (N₊ + 1)/(N₊ + 2) for bads and 1/(N₋ + 2) for goods (Platt 1999, §2.2), so the fit
    stays finite even when the rows are perfectly separated. Returns (a, b).
    """
    y = np.asarray(y, dtype=np.float64)
    n_bad = float(y.sum())
    n_good = float(len(y) - n_bad)
    t = np.where(y > 0, (n_bad + 1.0) / (n_bad + 2.0), 1.0 / (n_good + 2.0))
    scale = max(1.0, float(np.abs(z).max()))  # conditioning only: the fit is invariant to scaling z
    f = z / scale

    def loss(ab: np.ndarray) -> float:
        u = ab[0] * f + ab[1]
        return float(np.sum(np.logaddexp(0.0, u) - t * u))

    ab = np.array([0.0, np.log((n_bad + 1.0) / (n_good + 1.0))])
    current = loss(ab)
    for _ in range(max_iter):
        p = special.expit(ab[0] * f + ab[1])
        g = np.array([np.dot(p - t, f), np.sum(p - t)])
        if np.abs(g).max() < 1e-11 * len(f):
            break
        w = p * (1.0 - p)
        h = np.array([[np.dot(w, f * f), np.dot(w, f)], [np.dot(w, f), w.sum()]]) + 1e-12 * np.eye(2)
        step = np.linalg.solve(h, g)
        size = 1.0
        while size > 1e-10:
            cand = ab - size * step
            value = loss(cand)
            if value <= current + 1e-4 * size * float(np.dot(g, -step)):
                break
            size /= 2.0
        else:
            break  # no descent left: converged as far as float64 allows
        ab, current = cand, value
    return float(ab[0] / scale), float(ab[1])


def _pool(counts: np.ndarray, sums: np.ndarray, xsums: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.add.reduceat(a, starts) for a in (counts, sums, xsums))


def isotonic_knots(z: np.ndarray, target: np.ndarray, min_rows: int = MIN_ROWS_PER_KNOT) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the centred isotonic regression of ``target`` on ``z``, each summarising ≥ ``min_rows`` rows.

    Pool-adjacent-violators (scikit-learn's ``isotonic_regression``) gives a step function whose
    steps sit between neighbouring data points, so its slope there is arbitrarily steep: a change
    of 1e-6 in a score (e.g. ONNX Runtime vs PyTorch rounding) could move P(bad) a lot, applicants
    inside a step tie, and a block of one or two rows is noise. So, in order:

    1. PAV on the distinct scores (weights = rows per score);
    2. adjacent blocks are pooled left to right until each holds at least ``min_rows`` rows (the
       last remainder joins its left neighbour) — the minimum-bin-size rule of monotone binning
       in credit scoring (Mironchyk & Tchistiakov 2017, "Monotone optimal binning algorithm for
       credit risk modeling"); pooling neighbours of a non-decreasing sequence keeps it
       non-decreasing, and neighbours that end up equal are pooled too;
    3. one knot per block at its row-weighted mean score with the block's mean target, linear in
       between — centred isotonic regression (Oron & Flournoy 2017, "Centered isotonic regression:
       point and interval estimation for dose–response studies", Statistics in Biopharmaceutical
       Research 9): strictly increasing from the first to the last knot, flat beyond them.
    """
    from sklearn.isotonic import isotonic_regression

    ux, inverse, counts = np.unique(z, return_inverse=True, return_counts=True)
    counts = counts.astype(np.float64)
    sums = np.bincount(inverse, weights=target)
    fitted = isotonic_regression(sums / counts, sample_weight=counts, increasing=True)
    blocks = np.flatnonzero(np.r_[True, fitted[1:] != fitted[:-1]])
    w, t, xs = _pool(counts, fitted * counts, ux * counts, blocks)
    # left-to-right pooling up to the minimum block size
    starts, acc = [], 0.0
    for i, wi in enumerate(w):
        if acc == 0.0:
            starts.append(i)
        acc += wi
        if acc >= min_rows:
            acc = 0.0
    if acc and len(starts) > 1:
        starts.pop()  # the remainder joins its left neighbour
    w, t, xs = _pool(w, t, xs, np.asarray(starts))
    value = t / w
    equal = np.flatnonzero(np.r_[True, value[1:] > value[:-1]])  # neighbours with equal value become one block
    w, t, xs = _pool(w, t, xs, equal)
    return xs / w, np.maximum.accumulate(t / w)  # accumulate: guard against float noise


def thin_knots(x: np.ndarray, y: np.ndarray, max_knots: int = MAX_KNOTS) -> tuple[np.ndarray, np.ndarray, float]:
    """At most ``max_knots`` of the knots, chosen greedily where the interpolation errs most.

    Starts from the two end knots and repeatedly adds the knot farthest (vertically) from the
    current interpolation. Returns the kept knots and the exact largest difference between the
    thinned and the full piecewise-linear map (both are linear between full knots, so the largest
    difference sits on a knot).
    """
    if max_knots < 2:
        raise SpecError(f"A monotone map needs at least 2 knots, got {max_knots}.", f"Use up to {MAX_KNOTS}.")
    if len(x) <= max_knots:
        return x.copy(), y.copy(), 0.0
    keep = np.zeros(len(x), dtype=bool)
    keep[[0, -1]] = True
    err = np.abs(np.interp(x, x[keep], y[keep]) - y)
    for _ in range(max_knots - 2):
        j = int(np.argmax(err))
        if err[j] <= 0.0:
            break
        keep[j] = True
        err = np.abs(np.interp(x, x[keep], y[keep]) - y)
    return x[keep], y[keep], float(err.max())


# --------------------------------------------------------------------------- the fitted map


@dataclass(frozen=True, eq=False)
class FittedAlignment:
    """A fitted score map: its parameters, the rows it was fitted on, and its effect on those rows.

    ``slope`` is the affine slope, or for an isotonic map its overall rise (last − first knot output
    over last − first knot input). ``intercept`` is None for isotonic maps. ``knots_x``/``knots_y``
    are the isotonic map's knots in log-odds (empty for affine maps); ``knots_fitted`` is how many
    the pooled, centred isotonic fit had before thinning and ``thinning_max_error`` the largest
    log-odds difference thinning made. ``fit_metrics`` holds, on the fit rows, the original model, the pruned model before and
    after the map.
    """

    spec: AlignmentSpec
    kind: str
    slope: float
    intercept: float | None
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()
    knots_fitted: int = 0
    thinning_max_error: float = 0.0
    n_fit: int = 0
    n_fit_bad: int = 0
    rows: dict = field(default_factory=dict)
    fit_rows_sha256: str = ""
    fit_metrics: dict = field(default_factory=dict)

    @property
    def shape(self) -> str:
        return self.spec.shape

    @property
    def key(self) -> str:
        """Cache key of the map itself: spec, parameters and the rows it was fitted on."""
        return digest([self.spec.key, json.dumps(self.parameters(), sort_keys=True), self.fit_rows_sha256], length=32)

    def parameters(self) -> dict:
        if self.shape == AFFINE:
            return {"slope": self.slope, "intercept": self.intercept}
        return {"knots_x": list(self.knots_x), "knots_y": list(self.knots_y), "overall_slope": self.slope,
                "knots_fitted": self.knots_fitted, "thinning_max_error": self.thinning_max_error,
                "min_rows_per_knot": MIN_ROWS_PER_KNOT}

    def map_logit(self, z: Any) -> np.ndarray:
        """The map on log-odds in float64 (reference for the module, which computes the same in float64)."""
        z = np.asarray(z, dtype=np.float64)
        if self.shape == AFFINE:
            return self.slope * z + self.intercept
        return np.interp(z, np.asarray(self.knots_x), np.asarray(self.knots_y))

    def module(self) -> nn.Module:
        """The map alone as a scriptable module on log-odds."""
        if self.shape == AFFINE:
            return AffineLogitMap(self.slope, self.intercept)
        return PiecewiseLinearLogitMap(torch.tensor(self.knots_x), torch.tensor(self.knots_y))

    def formula(self) -> str:
        if self.shape == AFFINE:
            b = self.intercept
            inner = f"{self.slope:.4g}·z {'+' if b >= 0 else '−'} {abs(b):.4g}"
            return f"P(bad) = sigmoid({inner})" if self.spec.method == TO_OUTCOMES else f"z′ = {inner}"
        return (f"monotone piecewise-linear map with {len(self.knots_x)} knots"
                + (f" (thinned from {self.knots_fitted}; at most {self.thinning_max_error:.2g} log-odds from the full fit)"
                   if self.knots_fitted > len(self.knots_x) else ""))

    def describe(self) -> str:
        """Two or three plain sentences for the page and the report: map, parameters, rows, effect."""
        rows_note = self.rows.get("note") or f"Map fitted on {self.n_fit} rows."
        what = ("the original model's log-odds" if self.spec.method == TO_ORIGINAL else "the observed outcomes")
        ranking = ("The slope is positive, so the ranking of applicants (AUC, Gini, KS) is unchanged; only the score scale moves."
                   if self.shape == AFFINE else
                   "The map rises between its first and last knot and is flat beyond them, so no applicant overtakes "
                   "another; applicants beyond the end knots tie, which can move AUC slightly.")
        before, after = self.fit_metrics.get("before", {}), self.fit_metrics.get("after", {})
        effect = ""
        if "psi" in before and "psi" in after:
            effect = (f" On the fit rows, score PSI against the original went from {before['psi']:.3g} to {after['psi']:.3g}"
                      f" and mean P(bad) from {before['mean_pd']:.1%} to {after['mean_pd']:.1%}"
                      f" (observed bad rate {after['bad_rate']:.1%}).")
        return (f"Pruned log-odds z mapped onto {what} by {SHAPE_LABELS[(self.spec.method, self.shape)]}: "
                f"{self.formula()}. {rows_note} {ranking}{effect}")

    def to_dict(self) -> dict:
        """Everything a manifest or report needs to state and reproduce the map."""
        return {"format": FORMAT, "spec": self.spec.to_dict(), "output_kind": self.kind, "shape": self.shape,
                "parameters": self.parameters(), "fit_rows": self.n_fit, "fit_rows_bad": self.n_fit_bad,
                "rows": dict(self.rows), "fit_rows_sha256": self.fit_rows_sha256, "fit_metrics": self.fit_metrics,
                "description": self.describe()}

    def to_frame(self) -> pd.DataFrame:
        """Metrics on the fit rows: one row per metric, original / before / after the map."""
        keys = [k for k in FIT_METRIC_LABELS if k in self.fit_metrics.get("before", {})]
        return pd.DataFrame([{"metric": k, "label": FIT_METRIC_LABELS[k],
                              **{col: self.fit_metrics.get(col, {}).get(k, np.nan) for col in ("original", "before", "after")}}
                             for k in keys])


def _summary(z: np.ndarray, pbad: np.ndarray, y: np.ndarray, z_ref: np.ndarray, p_ref: np.ndarray) -> dict[str, float]:
    both = 0 < y.sum() < len(y)
    return {
        "logit_mean": float(z.mean()), "logit_sd": float(z.std()), "logit_rmse": float(np.sqrt(np.mean((z - z_ref) ** 2))),
        "psi": psi(p_ref, pbad).value, "mean_pd": float(pbad.mean()), "bad_rate": float(y.mean()),
        "auc": _auc_kernel(y, pbad) if both else float("nan"),
        "brier": _brier_kernel(y, pbad), "log_loss": _log_loss_kernel(y, pbad),
    }


def _refuse_reversal(slope: float, how: str) -> None:
    if not np.isfinite(slope) or slope <= 0:
        raise SpecError(
            f"The fitted score map has slope {slope:.3g} ({how}); a map that is not increasing would reverse "
            "the pruned model's ranking of applicants, so it is refused.",
            "The pruned model no longer ranks applicants like the original: prune less or fine-tune instead of aligning.",
        )


def _check_fit_inputs(X_fit: Any, y_fit: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    if kind not in OUTPUT_KINDS:
        raise SpecError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")
    try:
        X = np.asarray(X_fit, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise DataError("The alignment rows are not a numeric table.", "Pass the model's input matrix.") from exc
    if X.ndim != 2:
        raise DataError("The alignment rows must be a table (rows × model inputs).", "Pass the model's input matrix.")
    if not np.isfinite(X).all():
        raise DataError("The alignment rows contain missing or infinite inputs.", "Impute or remove those rows.")
    y = as_labels(y_fit, len(X))
    if len(X) < MIN_FIT_ROWS:
        raise DataError(f"A score map needs at least {MIN_FIT_ROWS} rows to be fitted on; {len(X)} were given.",
                        "Use the training split or a larger calibration split.")
    return X, y


def fit_alignment(
    spec: AlignmentSpec,
    pruned_module: nn.Module,
    original_module: nn.Module | LoadedModel,
    X_fit: Any,
    y_fit: Any,
    kind: str,
    *,
    rows: AlignmentRows | None = None,
    max_knots: int = MAX_KNOTS,
) -> FittedAlignment:
    """Fit the map ``spec`` names on the rows ``X_fit`` / ``y_fit`` (never the evaluation rows).

    ``kind`` is the models' output kind. ``rows`` (from ``alignment_rows``/``rows_for``) is recorded
    so the report can say which rows were used; the caller must have sliced ``X_fit``/``y_fit`` with
    ``rows.fit_idx``. Neither module is changed. Raises ``SpecError`` when the fitted map would
    reverse or erase the ranking.
    """
    if not isinstance(spec, AlignmentSpec):
        raise SpecError("The alignment setting is not an AlignmentSpec.", "Build it with core.alignment.AlignmentSpec(...).")
    if not spec.active:
        raise SpecError("No score alignment was chosen, so there is no map to fit.", "Skip alignment when the method is 'none'.")
    X, y = _check_fit_inputs(X_fit, y_fit, kind)
    if rows is not None and rows.n_fit != len(X):
        raise SpecError(f"{len(X)} alignment rows were passed but the row choice names {rows.n_fit}.",
                        "Slice the inputs with rows.fit_idx.")
    original = original_module.module if isinstance(original_module, LoadedModel) else original_module
    z = _log_odds(pruned_module, X, kind, "pruned")
    z_orig = _log_odds(original, X, kind, "original")
    if np.ptp(z) == 0:
        raise SpecError("The pruned model gives every alignment row the same score, so there is no scale to align.",
                        "Prune less: the pruned model no longer tells applicants apart.")
    n_bad = int(y.sum())
    if spec.method == TO_OUTCOMES and n_bad in (0, len(y)):
        raise DataError(f"All {len(y)} alignment rows have the same outcome, so scores cannot be recalibrated to outcomes.",
                        "Use rows with both good and bad applicants, or align to the original model instead.")
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()
    knots_fitted, thinning_error, intercept = 0, 0.0, None
    if spec.shape == AFFINE:
        if spec.method == TO_ORIGINAL:
            slope, intercept = least_squares_affine(z, z_orig)
            _refuse_reversal(slope, "least squares onto the original log-odds")
        else:
            slope, intercept = platt_scaling(z, y)
            _refuse_reversal(slope, "Platt scaling on the outcomes")
        mapping: nn.Module = AffineLogitMap(slope, intercept)
    else:
        if spec.method == TO_ORIGINAL:
            kx, ky = isotonic_knots(z, z_orig)
        else:
            kx, p = isotonic_knots(z, y.astype(np.float64))
            floor = 0.5 / len(y)  # no rows in a block of that outcome: at most half an applicant's worth
            ky = special.logit(np.clip(p, floor, 1.0 - floor))
        knots_fitted = len(kx)
        if len(kx) < 2 or not ky[-1] > ky[0]:
            raise SpecError(
                "The fitted monotone map is constant: every applicant would get the same score, which throws the "
                "ranking away, so it is refused.",
                "The pruned model's scores do not rise with the original's (or with defaults) on these rows: prune less or fine-tune.",
            )
        kx, ky, thinning_error = thin_knots(kx, ky, max_knots)
        slope = float((ky[-1] - ky[0]) / (kx[-1] - kx[0]))
        knots_x, knots_y = tuple(float(v) for v in kx), tuple(float(v) for v in ky)
        mapping = PiecewiseLinearLogitMap(torch.from_numpy(kx), torch.from_numpy(ky))
    p_orig = pbad_from_raw(raw_outputs(original, X), kind)
    p_before = pbad_from_raw(raw_outputs(pruned_module, X), kind)
    aligned = build_aligned(pruned_module, kind, mapping)
    raw_after = raw_outputs(aligned, X)
    p_after, z_after = pbad_from_raw(raw_after, kind), logit_from_raw(raw_after, kind)
    metrics = {
        "original": _summary(z_orig, p_orig, y, z_orig, p_orig),
        "before": _summary(z, p_before, y, z_orig, p_orig),
        "after": _summary(z_after, p_after, y, z_orig, p_orig),
    }
    return FittedAlignment(
        spec=spec, kind=kind, slope=float(slope), intercept=None if intercept is None else float(intercept),
        knots_x=knots_x, knots_y=knots_y, knots_fitted=knots_fitted, thinning_max_error=float(thinning_error),
        n_fit=len(y), n_fit_bad=n_bad,
        rows=rows.to_dict() if rows is not None else {"source": "given", "fit_rows": len(y)},
        fit_rows_sha256=digest([X, y.astype(np.int8)]), fit_metrics=metrics,
    )


def aligned_module(pruned_module: nn.Module, fitted: FittedAlignment) -> nn.Module:
    """A copy of the pruned module followed by the fitted map, emitting the same output kind.

    An ``AlignedModel`` (scriptable), or its TorchScript form when the pruned module is scripted.

    The map's description (``fitted.to_dict()``, JSON) travels inside the module as
    ``alignment_record``, so an exported TorchScript file states what was appended.
    """
    record = json.dumps(fitted.to_dict(), sort_keys=True, default=str)
    return build_aligned(pruned_module, fitted.kind, fitted.module(), record)


def aligned_result(result: Any, fitted: FittedAlignment) -> Any:
    """A ``PruneResult`` whose module (and masked twin) carry the map, sizes re-measured, for export.

    Mask names gain the ``pruned.`` prefix of the wrapped network. Its ``key`` is the pruned
    model's: callers caching aligned results must key them by ``(result.key, fitted.key)``.
    """
    from core.prune.size import measure_size

    if getattr(result, "input_keep", None) is not None:
        # Removed input variables: the selector of the kept inputs stays in front, so the shipped
        # model (everything after it) is the aligned one and still takes only the kept columns.
        module = nn.Sequential(result.module[0], aligned_module(result.shipped, fitted)).eval()
        prefix = "1.pruned."
    else:
        module = aligned_module(result.module, fitted)
        prefix = "pruned."
    twin = aligned_module(result.masked_module, fitted) if result.masked_module is not None else None
    return replace(result, module=module, masked_module=twin,
                   masks={f"{prefix}{k}": v for k, v in result.masks.items()},
                   size=measure_size(module, result.schema))


def fit_for(workspace: Any, spec: AlignmentSpec, pruned_module: nn.Module) -> tuple[FittedAlignment, AlignmentRows]:
    """Choose the fit rows of a bound workspace (never its evaluation rows) and fit the map there.

    Reads ``eval_idx``, ``train_idx``, ``data.X``, ``data.y``, ``output.kind`` and ``model`` off the
    workspace. Returns the fitted map and the row choice, whose ``eval_idx`` are the rows every
    before/after number must be computed on (fewer than the workspace's when a calibration split
    was carved out).
    """
    rows = rows_for(workspace, spec)
    fitted = fit_alignment(spec, pruned_module, workspace.model, workspace.data.X[rows.fit_idx],
                           workspace.data.y[rows.fit_idx], workspace.output.kind, rows=rows)
    return fitted, rows

