"""Risk metrics for P(bad) scores, and what changes between an original and a pruned model.

A risk manager judges a model by how well it ranks applicants (AUC, Gini, KS), how honest its
probabilities are (Brier, log-loss, calibration) and what it does to the lending book at a cutoff
(approval rate, bad rate of the approved, flipped decisions). Decisions here always mean:
*decline* when P(bad) >= cutoff, *approve* otherwise.

Every function takes plain arrays or Series and either returns a typed result (with ``to_frame``
for charts and CSV) or raises a ``MetricError``/``SpecError`` that says what is wrong.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import MetricError, SpecError

PSI_BANDS = ((0.10, "stable"), (0.25, "monitor"))  # above the last edge: "significant shift"
PSI_SIGNIFICANT = "significant shift"
DEFAULT_BOOTSTRAP = 200
DEFAULT_LGD = 0.45  # Basel foundation IRB LGD for senior unsecured exposures
_EPS = np.finfo(np.float64).eps


# --------------------------------------------------------------------------- input checks


_CONVERSION_ERRORS = (TypeError, ValueError, OverflowError)


def _as_numbers(values: Any, what: str, hint: str) -> np.ndarray:
    """Any array-like (list, array, Series) as a flat float64 array, or a MetricError.

    Ragged lists, text, dicts, complex numbers and dates are refused here rather than crashing
    (or being silently reinterpreted) deep inside numpy.
    """
    if isinstance(values, (dict, set, str, bytes)):
        raise MetricError(f"The {what} are not a list of numbers.", hint)
    try:
        raw = np.asarray(values)
        if raw.dtype.kind in "cmMSUV":  # complex, timedelta, datetime, text, raw bytes
            raise TypeError(f"dtype {raw.dtype}")
        return np.asarray(raw, dtype=np.float64).reshape(-1)
    except _CONVERSION_ERRORS as exc:
        raise MetricError(f"The {what} are not numbers.", hint) from exc


def _as_number(value: Any, what: str, hint: str) -> float:
    """One setting as a float, or a SpecError naming it (never a bare TypeError/ValueError)."""
    if isinstance(value, (str, bytes)):
        raise SpecError(f"The {what} {value!r} is not a number between 0 and 1.", hint)
    try:
        return float(value)
    except _CONVERSION_ERRORS as exc:
        raise SpecError(f"The {what} {value!r} is not a number between 0 and 1.", hint) from exc


def _as_count(value: Any, what: str, hint: str) -> int:
    """A whole-number setting (bins, resamples, seed) or a SpecError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise SpecError(f"The {what} must be a whole number (got {value!r}).", hint)
    if not np.isfinite(value) or float(value) != int(value):
        raise SpecError(f"The {what} must be a whole number (got {value!r}).", hint)
    return int(value)


def as_scores(scores: Any, what: str = "scores") -> np.ndarray:
    """P(bad) as a 1-D float64 array in [0, 1]; refuses NaN/inf with a count."""
    s = _as_numbers(scores, what, "Pass probabilities of default between 0 and 1.")
    bad = ~np.isfinite(s)
    if bad.any():
        raise MetricError(
            f"{int(bad.sum())} of {len(s)} {what} are NaN or infinite.",
            "Check the model's outputs on these applicants before judging it.",
        )
    if len(s) and (s.min() < 0 or s.max() > 1):
        raise MetricError(
            f"The {what} must be probabilities of default between 0 and 1 "
            f"(found values from {s.min():.4g} to {s.max():.4g}).",
            "Convert the model's outputs to P(bad) first (core.model.pbad_from_raw).",
        )
    return s


def as_labels(labels: Any, n: int | None = None) -> np.ndarray:
    """Labels as a 1-D int array of 0 (good) and 1 (bad), length-checked against the scores."""
    hint = "Encode the outcome as 1 = bad, 0 = good."
    try:
        raw = np.asarray(labels).reshape(-1)
    except _CONVERSION_ERRORS as exc:
        raise MetricError("The labels are not a flat list of outcomes.", hint) from exc
    if raw.dtype == bool:
        y = raw.astype(np.int64)
    else:
        yf = _as_numbers(raw, "labels", hint)
        if not np.isfinite(yf).all() or not np.isin(yf, (0.0, 1.0)).all():
            raise MetricError("The labels must be 0 (good) or 1 (bad).", "Encode the outcome as 1 = bad, 0 = good.")
        y = yf.astype(np.int64)
    if n is not None and len(y) != n:
        raise MetricError(
            f"There are {n} scores but {len(y)} labels.",
            "Score exactly the applicants whose outcomes you pass.",
        )
    return y


def _both_classes(y: np.ndarray) -> tuple[int, int]:
    n_bad = int(y.sum())
    n_good = int(len(y) - n_bad)
    if len(y) == 0:
        raise MetricError("There are no applicants to measure.", "Pass at least one good and one bad applicant.")
    if n_bad == 0 or n_good == 0:
        only = "bad" if n_good == 0 else "good"
        raise MetricError(
            f"All {len(y)} applicants are {only}, so ranking metrics (AUC, Gini, KS) are undefined.",
            "Evaluate on data that contains both good and bad outcomes.",
        )
    return n_bad, n_good


def check_cutoff(cutoff: float) -> float:
    """A cutoff strictly inside (0, 1): at 0 everyone is declined, at 1 everyone is approved."""
    c = _as_number(cutoff, "cutoff", "A cutoff is a probability of default strictly between 0 and 1, e.g. 0.30.")
    if not np.isfinite(c) or not (0.0 < c < 1.0):
        raise SpecError(
            f"The cutoff {cutoff} is outside (0, 1).",
            "A cutoff is a probability of default strictly between 0 and 1, e.g. 0.30.",
        )
    return c


def check_rate(rate: float, what: str = "target approval rate") -> float:
    r = _as_number(rate, what, "Use a share strictly between 0 and 1, e.g. 0.70.")
    if not np.isfinite(r) or not (0.0 < r < 1.0):
        raise SpecError(f"The {what} {rate} is outside (0, 1).", "Use a share strictly between 0 and 1, e.g. 0.70.")
    return r


# --------------------------------------------------------------------------- ranking metrics


def auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve (Mann–Whitney U with average ranks for ties)."""
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    n_bad, n_good = _both_classes(y)
    ranks = stats.rankdata(s)
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good))


def gini(scores: Any, labels: Any) -> float:
    return 2.0 * auc(scores, labels) - 1.0


def ks(scores: Any, labels: Any) -> tuple[float, float]:
    """Kolmogorov–Smirnov distance between the bad and good score distributions, and where it peaks."""
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    n_bad, n_good = _both_classes(y)
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    cdf_bad = np.cumsum(y_sorted) / n_bad
    cdf_good = np.cumsum(1 - y_sorted) / n_good
    last_of_tie = np.append(s_sorted[1:] != s_sorted[:-1], True)
    gap = np.abs(cdf_bad - cdf_good)[last_of_tie]
    i = int(np.argmax(gap))
    return float(gap[i]), float(s_sorted[last_of_tie][i])


def brier(scores: Any, labels: Any) -> float:
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    if len(s) == 0:
        raise MetricError("There are no applicants to measure.", "Pass at least one applicant.")
    return float(np.mean((s - y) ** 2))


def log_loss(scores: Any, labels: Any) -> float:
    """Mean negative log-likelihood; probabilities are clipped to [eps, 1 − eps] like scikit-learn."""
    s = np.clip(as_scores(scores), _EPS, 1 - _EPS)
    y = as_labels(labels, len(s))
    if len(s) == 0:
        raise MetricError("There are no applicants to measure.", "Pass at least one applicant.")
    return float(-np.mean(y * np.log(s) + (1 - y) * np.log1p(-s)))


# --------------------------------------------------------------------------- decisions


def decline(scores: np.ndarray, cutoff: float) -> np.ndarray:
    """True where the model declines: P(bad) at or above the cutoff."""
    return scores >= cutoff


def cutoff_for_approval(scores: Any, approval_rate: float) -> float:
    """The cutoff at which these scores approve (as nearly as ties allow) the given share.

    The cutoff sits halfway between the last approved and the first declined score, so a tiny
    change in a score does not flip the boundary applicant. Ties at the boundary are decided
    together (all declined), and since a cutoff lies strictly inside (0, 1), applicants scored
    P(bad) = 1 are always declined and P(bad) = 0 always approved, whatever the target.
    """
    s = np.sort(as_scores(scores))
    r = check_rate(approval_rate)
    if len(s) == 0:
        raise MetricError("There are no scores to set a cutoff on.", "Score some applicants first.")
    k = int(round(r * len(s)))
    lo = 0.0 if k <= 0 else s[k - 1]  # last approved score (0 when nobody is approved)
    hi = 1.0 if k >= len(s) else s[k]  # first declined score (1 when everybody is approved)
    c = (lo + hi) / 2.0
    if c <= lo and hi > lo:  # adjacent floats (or tiny scores): the midpoint rounds onto lo
        c = float(np.nextafter(lo, np.inf))
    # stay strictly inside (0, 1) without jumping over scores: the smallest step from each end
    return float(min(max(c, np.nextafter(0.0, 1.0)), np.nextafter(1.0, 0.0)))


@dataclass(frozen=True)
class CutoffChoice:
    """The cutoff in force and why: shown next to every decision number."""

    cutoff: float
    how: str
    approval_rate: float | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"cutoff": self.cutoff, "how": self.how, "approval_rate": self.approval_rate}])


def default_cutoff(original_scores: Any, labels: Any) -> CutoffChoice:
    """Decline as many applicants as the data has bad ones: the original's cutoff at 1 − bad rate.

    A silent 0.5 would approve nearly everyone on imbalanced credit data; this default keeps the
    original model's decline volume equal to the observed default volume, which a committee can
    check on the data in one line.
    """
    s = as_scores(original_scores, "original scores")
    y = as_labels(labels, len(s))
    _both_classes(y)
    rate = 1.0 - float(y.mean())
    return CutoffChoice(
        cutoff_for_approval(s, rate),
        f"original model approves {rate:.1%} of applicants (declines as many as the {y.mean():.1%} observed bad rate)",
        rate,
    )


def resolve_cutoff(original_scores: Any, labels: Any, cutoff: float | None = None, approval_rate: float | None = None) -> CutoffChoice:
    """A user cutoff, or the cutoff hitting a target approval rate for the original, or the default."""
    if cutoff is not None and approval_rate is not None:
        raise SpecError("Give either a cutoff or a target approval rate, not both.", "Pick one way to set decisions.")
    if cutoff is not None:
        return CutoffChoice(check_cutoff(cutoff), "set by the user")
    if approval_rate is not None:
        r = check_rate(approval_rate)
        return CutoffChoice(cutoff_for_approval(original_scores, r), f"original model approves {r:.1%} of applicants", r)
    return default_cutoff(original_scores, labels)


@dataclass(frozen=True)
class Confusion:
    cutoff: float
    true_positive: int  # bad and declined
    false_positive: int  # good and declined
    true_negative: int  # good and approved
    false_negative: int  # bad and approved

    @property
    def n(self) -> int:
        return self.true_positive + self.false_positive + self.true_negative + self.false_negative

    @property
    def accuracy(self) -> float:
        return (self.true_positive + self.true_negative) / self.n if self.n else float("nan")

    @property
    def precision(self) -> float:
        d = self.true_positive + self.false_positive
        return self.true_positive / d if d else float("nan")

    @property
    def recall(self) -> float:
        d = self.true_positive + self.false_negative
        return self.true_positive / d if d else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if (p + r) > 0 else float("nan")

    @property
    def approval_rate(self) -> float:
        return (self.true_negative + self.false_negative) / self.n if self.n else float("nan")

    @property
    def approved_bad_rate(self) -> float:
        approved = self.true_negative + self.false_negative
        return self.false_negative / approved if approved else float("nan")


def confusion(scores: Any, labels: Any, cutoff: float) -> Confusion:
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    c = check_cutoff(cutoff)
    d = decline(s, c)
    bad = y == 1
    return Confusion(c, int((d & bad).sum()), int((d & ~bad).sum()), int((~d & ~bad).sum()), int((~d & bad).sum()))


# --------------------------------------------------------------------------- one model


@dataclass(frozen=True)
class RiskMetrics:
    """Every headline number of one model on one set of applicants."""

    n: int
    n_bad: int
    bad_rate: float
    auc: float
    gini: float
    ks: float
    ks_score: float
    brier: float
    log_loss: float
    cutoff: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    approval_rate: float
    approved_bad_rate: float
    mean_pd: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per number: metric, label, value."""
        return metrics_frame(self)


METRIC_LABELS = {
    "auc": "AUC", "gini": "Gini", "ks": "KS", "ks_score": "KS at score", "brier": "Brier score",
    "log_loss": "Log-loss", "accuracy": "Accuracy", "precision": "Precision (bad)", "recall": "Recall (bad)",
    "f1": "F1 (bad)", "approval_rate": "Approval rate", "approved_bad_rate": "Bad rate of approved",
    "mean_pd": "Mean P(bad)",
}
HIGHER_IS_BETTER = {
    "auc": True, "gini": True, "ks": True, "brier": False, "log_loss": False, "accuracy": True,
    "precision": True, "recall": True, "f1": True, "approved_bad_rate": False,
}


def risk_metrics(scores: Any, labels: Any, cutoff: float) -> RiskMetrics:
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    n_bad, _ = _both_classes(y)
    ks_stat, ks_at = ks(s, y)
    a = auc(s, y)
    cm = confusion(s, y, cutoff)
    return RiskMetrics(
        n=len(s), n_bad=n_bad, bad_rate=n_bad / len(s), auc=a, gini=2 * a - 1, ks=ks_stat, ks_score=ks_at,
        brier=brier(s, y), log_loss=log_loss(s, y), cutoff=cm.cutoff, accuracy=cm.accuracy,
        precision=cm.precision, recall=cm.recall, f1=cm.f1, approval_rate=cm.approval_rate,
        approved_bad_rate=cm.approved_bad_rate, mean_pd=float(s.mean()),
    )


def score_deciles(scores: Any, labels: Any, bins: int = 10) -> pd.DataFrame:
    """Applicants in score deciles (1 = safest): count, bads, observed bad rate, mean predicted PD.

    This single table is both the calibration curve (mean predicted vs observed) and the bad rate
    by decile; ties never split across deciles, so a decile can hold more or fewer rows.
    """
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    bins = _as_count(bins, "number of score bins", "Use the usual 10 bins.")
    if bins < 1:
        raise SpecError(f"Score bands need at least 1 bin, got {bins}.", "Use the usual 10 bins.")
    if len(s) == 0:
        raise MetricError("There are no applicants to put into deciles.", "Pass at least one applicant.")
    ranks = stats.rankdata(s, method="min") - 1  # ties share the lowest rank → same decile
    decile = np.minimum((ranks * bins) // len(s), bins - 1).astype(int) + 1
    frame = pd.DataFrame({"decile": decile, "score": s, "bad": y})
    out = frame.groupby("decile").agg(
        applicants=("bad", "size"), bads=("bad", "sum"), mean_pd=("score", "mean"),
        min_score=("score", "min"), max_score=("score", "max"),
    ).reset_index()
    out["observed_bad_rate"] = out["bads"] / out["applicants"]
    return out


def strategy_curve(scores: Any, labels: Any, points: int = 101) -> pd.DataFrame:
    """Approval rate vs bad rate of the approved, approving the safest applicants first."""
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    if len(s) == 0:
        raise MetricError("There are no applicants for a strategy curve.", "Pass at least one applicant.")
    points = _as_count(points, "number of curve points", "Use e.g. 101 points.")
    if points < 2:
        raise SpecError(f"A strategy curve needs at least 2 points, got {points}.", "Use e.g. 101 points.")
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    cum_bad = np.concatenate([[0], np.cumsum(y[order])])
    ks_ = np.unique(np.round(np.linspace(1, len(s), min(points, len(s)))).astype(int))
    return pd.DataFrame({
        "approval_rate": ks_ / len(s),
        "approved": ks_,
        "approved_bad_rate": cum_bad[ks_] / ks_,
        "cutoff": [float(s_sorted[k]) if k < len(s) else 1.0 for k in ks_],
    })


def metrics_frame(metrics: RiskMetrics) -> pd.DataFrame:
    return pd.DataFrame([{"metric": k, "label": METRIC_LABELS.get(k, k), "value": v} for k, v in metrics.to_dict().items()])


# --------------------------------------------------------------------------- two models


@dataclass(frozen=True)
class PSIResult:
    """Population stability index of ``actual`` against ``expected`` on the expected's quantile bins."""

    value: float
    band: str
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-bin table (bin, edges, shares, contribution); the value is its contribution sum."""
        return self.table.copy()


def psi_band(value: float) -> str:
    """< 0.10 stable, 0.10–0.25 monitor, above: significant shift (the usual credit-scoring bands)."""
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise MetricError(f"PSI {value} is not a valid stability index.", "PSI is a non-negative finite number.")
    for edge, name in PSI_BANDS:
        if value < edge:
            return name
    return PSI_SIGNIFICANT


def _quantile_edges(expected: np.ndarray, bins: int) -> np.ndarray:
    qs = np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(qs)


def psi_from_counts(expected_counts: np.ndarray, actual_counts: np.ndarray, floor: float = 1e-4) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """PSI = Σ (a − e)·ln(a / e) over bins; empty bins get a small floor share so PSI stays finite."""
    e = _as_numbers(expected_counts, "expected counts", "Pass one applicant count per bin.")
    a = _as_numbers(actual_counts, "actual counts", "Pass one applicant count per bin.")
    if len(e) != len(a):
        raise MetricError(f"There are {len(e)} expected bins but {len(a)} actual bins.", "Count both samples in the same bins.")
    if not (np.isfinite(e).all() and np.isfinite(a).all()) or (e < 0).any() or (a < 0).any():
        raise MetricError("Bin counts must be finite and non-negative.", "Pass one applicant count per bin.")
    if e.sum() <= 0 or a.sum() <= 0:
        raise MetricError("PSI needs applicants in both samples.", "Pass two non-empty samples.")
    e_share = np.maximum(e / e.sum(), floor)
    a_share = np.maximum(a / a.sum(), floor)
    contrib = (a_share - e_share) * np.log(a_share / e_share)
    return float(contrib.sum()), e / e.sum(), a / a.sum(), contrib


def psi(expected: Any, actual: Any, bins: int = 10) -> PSIResult:
    """Score PSI with bins at the expected scores' deciles (ties merge bins rather than split them)."""
    e = _as_numbers(expected, "expected scores", "Pass the original model's scores.")
    a = _as_numbers(actual, "actual scores", "Pass the pruned model's scores.")
    bins = _as_count(bins, "number of PSI bins", "Use the usual 10 bins.")
    for arr, what in ((e, "expected"), (a, "actual")):
        if len(arr) == 0:
            raise MetricError(f"The {what} sample is empty.", "PSI needs applicants in both samples.")
        if not np.isfinite(arr).all():
            raise MetricError(f"The {what} sample contains NaN or infinite values.", "Remove them before measuring stability.")
    if bins < 2:
        raise SpecError(f"PSI needs at least 2 bins, got {bins}.", "Use the usual 10 bins.")
    edges = _quantile_edges(e, bins)
    e_bin = np.searchsorted(edges, e, side="right")
    a_bin = np.searchsorted(edges, a, side="right")
    k = len(edges) + 1
    value, e_share, a_share, contrib = psi_from_counts(np.bincount(e_bin, minlength=k), np.bincount(a_bin, minlength=k))
    lower = np.concatenate([[-np.inf], edges])
    upper = np.concatenate([edges, [np.inf]])
    table = pd.DataFrame({
        "bin": np.arange(1, k + 1), "lower": lower, "upper": upper,
        "expected_share": e_share, "actual_share": a_share, "contribution": contrib,
    })
    return PSIResult(value, psi_band(value), table)


@dataclass(frozen=True)
class Flips:
    """Applicants whose decision differs between the two models at the same cutoff.

    With no applicants at all the result is defined as nothing flipped (count 0, share 0).
    """

    cutoff: float
    n: int
    count: int
    good_declined: int  # good applicants the original approved and the pruned model declines
    bad_approved: int  # bad applicants the original declined and the pruned model approves
    good_approved: int  # good applicants newly approved (a gain)
    bad_declined: int  # bad applicants newly declined (a gain)
    rows: pd.DataFrame = field(repr=False)

    @property
    def share(self) -> float:
        return self.count / self.n if self.n else 0.0

    def to_frame(self) -> pd.DataFrame:
        """The flipped applicants with both scores and both decisions, largest score change first."""
        return self.rows.copy()

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"change": "good applicant newly declined", "applicants": self.good_declined, "effect": "lost business"},
            {"change": "bad applicant newly approved", "applicants": self.bad_approved, "effect": "new losses"},
            {"change": "good applicant newly approved", "applicants": self.good_approved, "effect": "gained business"},
            {"change": "bad applicant newly declined", "applicants": self.bad_declined, "effect": "avoided losses"},
        ])


def flips(original: Any, pruned: Any, labels: Any, cutoff: float, row_ids: Any = None) -> Flips:
    so = as_scores(original, "original scores")
    sp = as_scores(pruned, "pruned scores")
    if len(so) != len(sp):
        raise MetricError(f"There are {len(so)} original scores but {len(sp)} pruned scores.", "Score the same applicants with both models.")
    y = as_labels(labels, len(so))
    c = check_cutoff(cutoff)
    do, dp = decline(so, c), decline(sp, c)
    changed = do != dp
    bad = y == 1
    try:
        ids = np.arange(len(so)) if row_ids is None else np.asarray(row_ids).reshape(-1)
    except _CONVERSION_ERRORS as exc:
        raise MetricError("The row ids are not a flat list.", "Pass one id per applicant.") from exc
    if len(ids) != len(so):
        raise MetricError(f"{len(ids)} row ids were given for {len(so)} applicants.", "Pass one id per applicant.")
    label_text = np.where(bad, "bad", "good")
    rows = pd.DataFrame({
        "row": ids[changed],
        "outcome": label_text[changed],
        "pd_original": so[changed],
        "pd_pruned": sp[changed],
        "decision_original": np.where(do[changed], "decline", "approve"),
        "decision_pruned": np.where(dp[changed], "decline", "approve"),
    })
    rows["pd_change"] = rows["pd_pruned"] - rows["pd_original"]
    rows = rows.reindex(rows["pd_change"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return Flips(
        cutoff=c, n=len(so), count=int(changed.sum()),
        good_declined=int((~do & dp & ~bad).sum()), bad_approved=int((do & ~dp & bad).sum()),
        good_approved=int((do & ~dp & ~bad).sum()), bad_declined=int((~do & dp & bad).sum()),
        rows=rows,
    )


@dataclass(frozen=True)
class DeltaCI:
    """Paired bootstrap interval for pruned − original of one metric."""

    metric: str
    delta: float
    low: float
    high: float
    level: float
    resamples: int
    seed: int

    @property
    def excludes_zero(self) -> bool:
        return self.high < 0 or self.low > 0


def bootstrap_deltas(
    original: Any, pruned: Any, labels: Any, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0, level: float = 0.95
) -> dict[str, DeltaCI]:
    """Percentile CIs for ΔAUC and ΔKS, resampling applicants with the *same* draw for both models.

    Pairing matters: the two models score the same applicants, so most sampling noise cancels in
    the difference; unpaired intervals would be far too wide. Resamples with one class only are
    redrawn (they have no AUC), so every interval rests on ``resamples`` valid draws.
    """
    so = as_scores(original, "original scores")
    sp = as_scores(pruned, "pruned scores")
    if len(so) != len(sp):
        raise MetricError(f"There are {len(so)} original scores but {len(sp)} pruned scores.", "Score the same applicants with both models.")
    y = as_labels(labels, len(so))
    _both_classes(y)
    resamples = _as_count(resamples, "number of bootstrap resamples", f"Use the default {DEFAULT_BOOTSTRAP}.")
    if resamples < 10:
        raise SpecError(f"{resamples} bootstrap resamples are too few for an interval.", f"Use the default {DEFAULT_BOOTSTRAP}.")
    seed = _as_count(seed, "bootstrap seed", "Use a whole number such as 0.")
    if seed < 0:
        raise SpecError(f"The bootstrap seed {seed} is negative.", "Use a whole number such as 0.")
    level = _as_number(level, "confidence level", "Use e.g. 0.95.")
    if not (0.5 < level < 1):
        raise SpecError(f"Confidence level {level} is out of range.", "Use e.g. 0.95.")
    rng = np.random.default_rng(seed)
    n = len(y)
    draws: dict[str, list[float]] = {"auc": [], "ks": []}
    attempts = 0
    while len(draws["auc"]) < resamples:
        attempts += 1
        if attempts > resamples * 20:
            raise MetricError("Too few applicants of one outcome for a bootstrap interval.", "Evaluate on more rows.")
        idx = rng.integers(0, n, n)
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        draws["auc"].append(_fast_auc(sp[idx], yb) - _fast_auc(so[idx], yb))
        draws["ks"].append(_fast_ks(sp[idx], yb) - _fast_ks(so[idx], yb))
    point = {"auc": _fast_auc(sp, y) - _fast_auc(so, y), "ks": _fast_ks(sp, y) - _fast_ks(so, y)}
    alpha = (1 - level) / 2
    out = {}
    for m, vals in draws.items():
        lo, hi = np.quantile(np.asarray(vals), [alpha, 1 - alpha])
        out[m] = DeltaCI(m, float(point[m]), float(lo), float(hi), level, resamples, int(seed))
    return out


def _fast_auc(s: np.ndarray, y: np.ndarray) -> float:
    n_bad = int(y.sum())
    n_good = len(y) - n_bad
    ranks = stats.rankdata(s)
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good))


def _fast_ks(s: np.ndarray, y: np.ndarray) -> float:
    n_bad = int(y.sum())
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.append(s_sorted[1:] != s_sorted[:-1], True)
    gap = np.abs(np.cumsum(y_sorted) / n_bad - np.cumsum(1 - y_sorted) / (len(y) - n_bad))
    return float(gap[last].max())


@dataclass(frozen=True)
class ExpectedLoss:
    """Loss of the book each model approves: estimated (its own PD × LGD × EAD) and observed."""

    lgd: float
    exposure_column: str
    approved_exposure_original: float
    approved_exposure_pruned: float
    expected_loss_original: float
    expected_loss_pruned: float
    observed_loss_original: float
    observed_loss_pruned: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"quantity": "approved exposure", "original": self.approved_exposure_original, "pruned": self.approved_exposure_pruned},
            {"quantity": "expected loss (PD × LGD × EAD)", "original": self.expected_loss_original, "pruned": self.expected_loss_pruned},
            {"quantity": "observed loss (bads × LGD × EAD)", "original": self.observed_loss_original, "pruned": self.observed_loss_pruned},
        ]).assign(change=lambda f: f["pruned"] - f["original"])


def expected_loss(
    original: Any, pruned: Any, labels: Any, exposure: Any, cutoff: float, lgd: float = DEFAULT_LGD, exposure_column: str = "exposure"
) -> ExpectedLoss:
    so = as_scores(original, "original scores")
    sp = as_scores(pruned, "pruned scores")
    y = as_labels(labels, len(so))
    if len(sp) != len(so):
        raise MetricError(f"There are {len(so)} original scores but {len(sp)} pruned scores.", "Score the same applicants with both models.")
    try:
        ead = np.asarray(pd.to_numeric(pd.Series(np.asarray(exposure).reshape(-1)), errors="raise"), dtype=np.float64)
    except _CONVERSION_ERRORS as exc:
        raise MetricError(f"The exposure column '{exposure_column}' is not numeric.", "Pick the loan amount column.") from exc
    if len(ead) != len(so):
        raise MetricError(f"There are {len(so)} scores but {len(ead)} exposures.", "Pick an exposure column of the evaluated rows.")
    if not np.isfinite(ead).all() or (ead < 0).any():
        raise MetricError(f"The exposure column '{exposure_column}' has missing, infinite or negative amounts.", "Pick the loan amount column.")
    lgd = _as_number(lgd, "LGD", f"Use a loss-given-default share such as {DEFAULT_LGD:.0%}.")
    if not (0 < lgd <= 1):
        raise SpecError(f"LGD {lgd} is outside (0, 1].", f"Use a loss-given-default share such as {DEFAULT_LGD:.0%}.")
    c = check_cutoff(cutoff)
    ao, ap = ~decline(so, c), ~decline(sp, c)
    return ExpectedLoss(
        lgd=lgd, exposure_column=exposure_column,
        approved_exposure_original=float(ead[ao].sum()), approved_exposure_pruned=float(ead[ap].sum()),
        expected_loss_original=float((so * lgd * ead)[ao].sum()), expected_loss_pruned=float((sp * lgd * ead)[ap].sum()),
        observed_loss_original=float((y * lgd * ead)[ao].sum()), observed_loss_pruned=float((y * lgd * ead)[ap].sum()),
    )


@dataclass(frozen=True)
class Comparison:
    """Original vs pruned on the same applicants at the same cutoff."""

    original: RiskMetrics
    pruned: RiskMetrics
    cutoff: CutoffChoice
    psi: PSIResult
    flips: Flips
    spearman: float
    ci: dict[str, DeltaCI] = field(default_factory=dict)

    def delta(self, metric: str) -> float:
        return float(getattr(self.pruned, metric) - getattr(self.original, metric))

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: original, pruned, change, and whether the change is a loss."""
        rows = []
        for key, label in METRIC_LABELS.items():
            o, p = getattr(self.original, key), getattr(self.pruned, key)
            better = HIGHER_IS_BETTER.get(key)
            d = p - o
            worse = None if better is None or not np.isfinite(d) else (d < 0 if better else d > 0)
            rows.append({"metric": key, "label": label, "original": o, "pruned": p, "change": d, "worse": worse})
        return pd.DataFrame(rows)

    def ci_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"metric": m, "delta": c.delta, "low": c.low, "high": c.high, "level": c.level,
             "resamples": c.resamples, "seed": c.seed, "excludes_zero": c.excludes_zero}
            for m, c in self.ci.items()
        ])


def spearman(a: Any, b: Any) -> float:
    x = as_scores(a, "original scores")
    z = as_scores(b, "pruned scores")
    if len(x) != len(z):
        raise MetricError(f"Cannot correlate {len(x)} scores with {len(z)}.", "Score the same applicants with both models.")
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(z) == 0:
        return float("nan")  # undefined for constant scores; shown as "n/a"
    return float(stats.spearmanr(x, z).statistic)


def compare(
    original: Any,
    pruned: Any,
    labels: Any,
    cutoff: float | None = None,
    approval_rate: float | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    row_ids: Any = None,
) -> Comparison:
    """All original-vs-pruned numbers in one call; ``bootstrap`` > 0 adds paired CIs (slower)."""
    so = as_scores(original, "original scores")
    sp = as_scores(pruned, "pruned scores")
    if len(so) != len(sp):
        raise MetricError(f"There are {len(so)} original scores but {len(sp)} pruned scores.", "Score the same applicants with both models.")
    y = as_labels(labels, len(so))
    choice = resolve_cutoff(so, y, cutoff, approval_rate)
    ci = bootstrap_deltas(so, sp, y, bootstrap, seed) if bootstrap else {}
    return Comparison(
        original=risk_metrics(so, y, choice.cutoff),
        pruned=risk_metrics(sp, y, choice.cutoff),
        cutoff=choice,
        psi=psi(so, sp),
        flips=flips(so, sp, y, choice.cutoff, row_ids),
        spearman=spearman(so, sp),
        ci=ci,
    )
