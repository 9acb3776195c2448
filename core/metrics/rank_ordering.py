"""Do riskier scores default more? Bad rate by score band or grade, its monotonicity, and the CAP curve.

A credit committee reads rank ordering band by band: bad rates should rise from the safest band to
the riskiest, and every reversal ("inversion") is a place where the model ranks applicants the wrong
way. A pruned model can keep its AUC and still break ordering in one band, so the table names *where*.

References: Siddiqi (2017), *Intelligent Credit Scoring*, 2nd ed., ch. 10 (bad rate by score band,
rank ordering); Engelmann, Hayden & Tasche (2003), "Testing rating accuracy", Risk 16(1), 82–86
(cumulative accuracy profile, accuracy ratio = 2·AUC − 1); Fisher (1935) / Agresti (2002),
*Categorical Data Analysis*, §3.5 (one-sided exact test of two proportions, used to say whether an
inversion is more than noise).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import MetricError, SpecError
from core.metrics._validation import _as_count, _both_classes, check_y_score

MAX_BANDS = 1000  # bands / grades / groups: a table a committee can read, and bounded work
MAX_POINTS = 1_000_001


def _check_bins(bins: Any, what: str, minimum: int, hint: str = "Use the usual 10 bands.") -> int:
    b = _as_count(bins, what, hint)
    if not (minimum <= b <= MAX_BANDS):
        raise SpecError(f"The {what} must be between {minimum} and {MAX_BANDS} (got {b}).", hint)
    return b


def _runs(s_sorted: np.ndarray) -> np.ndarray:
    """Run id of each sorted score: equal scores share one run (so a cut can never split them)."""
    new_run = np.empty(len(s_sorted), dtype=bool)
    if len(s_sorted):
        new_run[0] = True
        np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_run[1:])
    return np.cumsum(new_run) - 1


def _score_bands(s: np.ndarray, bins: int) -> np.ndarray:
    """Band 1 (lowest P(bad), safest) … ``bins`` (riskiest) by score quantile, ties never split.

    A run of tied scores goes to the band of its first applicant — the same rule as
    ``score_deciles`` — so bands can hold more or fewer rows, and a band can stay empty.
    """
    n = len(s)
    order = np.argsort(s)
    run = _runs(s[order])
    first = np.flatnonzero(np.append(True, run[1:] != run[:-1]))  # sorted position where each run starts
    band_sorted = np.minimum(first[run] * bins // n, bins - 1) + 1
    out = np.empty(n, dtype=np.int64)
    out[order] = band_sorted
    return out


def _grade_codes(grades: Any, s: np.ndarray) -> tuple[np.ndarray, list]:
    """User grades as codes 0 … k−1, safest first, and their labels.

    An *ordered* pandas Categorical keeps its own order (e.g. AAA … CCC); any other labels are
    ordered by their mean P(bad), so "riskier" always means what the model says is riskier.
    """
    hint = "Pass one grade label per applicant, in the same order as the scores."
    if isinstance(grades, (str, bytes, dict, set)):
        raise MetricError("The grades are not a list of labels.", hint)
    values = grades.array if isinstance(grades, pd.Series) else grades
    try:
        if isinstance(values, pd.Categorical):
            cat = values
        else:
            arr = np.asarray(values, dtype=object)
            if arr.ndim != 1:
                raise ValueError(f"{arr.ndim}-dimensional grades")
            cat = pd.Categorical(arr)
    except (TypeError, ValueError) as exc:
        raise MetricError("The grades are not a flat list of labels.", hint) from exc
    if len(cat) != len(s):
        raise MetricError(f"There are {len(s)} scores but {len(cat)} grades.", hint)
    missing = int((cat.codes < 0).sum())
    if missing:
        raise MetricError(f"{missing} of {len(cat)} applicants have no grade.", "Give every applicant a grade, or use score bands.")
    cat = cat.remove_unused_categories()
    k = len(cat.categories)
    if k > MAX_BANDS:
        raise SpecError(f"There are {k} distinct grades; at most {MAX_BANDS} can be tabled.", "Group the grades into a rating scale.")
    codes = np.asarray(cat.codes, dtype=np.int64)
    labels = list(cat.categories)
    if not cat.ordered:
        mean_pd = np.bincount(codes, weights=s, minlength=k) / np.bincount(codes, minlength=k)
        rank = np.empty(k, dtype=np.int64)
        perm = np.argsort(mean_pd, kind="stable")
        rank[perm] = np.arange(k)
        codes, labels = rank[codes], [labels[i] for i in perm]
    return codes, labels


def _bands(s: np.ndarray, bins: Any, grades: Any) -> tuple[np.ndarray, list, str]:
    """Codes 0 … k−1 (safest first, only non-empty bands), their labels, and where they came from."""
    if grades is not None:
        codes, labels = _grade_codes(grades, s)
        return codes, labels, "grades"
    band = _score_bands(s, _check_bins(bins, "number of score bands", 2))
    used = np.unique(band)
    return np.searchsorted(used, band), [int(b) for b in used], "score bands"


def _band_table(y: np.ndarray, s: np.ndarray, codes: np.ndarray, labels: list) -> pd.DataFrame:
    """Per band: applicants, bads, bad rate, mean P(bad), score range (bincount: one pass)."""
    k = len(labels)
    count = np.bincount(codes, minlength=k)
    bads = np.bincount(codes, weights=y, minlength=k).astype(np.int64)
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    np.minimum.at(lo, codes, s)
    np.maximum.at(hi, codes, s)
    return pd.DataFrame({
        "band": labels, "applicants": count, "bads": bads, "bad_rate": bads / count,
        "mean_pd": np.bincount(codes, weights=s, minlength=k) / count, "min_score": lo, "max_score": hi,
    })


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so summaries serialise (JSON manifest, reports)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Inversion:
    """Two neighbouring bands whose bad rates go the wrong way: the riskier band defaults less."""

    safer: Any
    riskier: Any
    safer_bad_rate: float
    riskier_bad_rate: float
    gap: float  # safer − riskier bad rate, > 0
    p_value: float  # one-sided Fisher exact: is the riskier band's bad rate really lower?


@dataclass(frozen=True)
class RankOrdering:
    """Bad rate by band (safest first) and whether it rises monotonically towards the riskiest band."""

    table: pd.DataFrame = field(repr=False)
    inversions: tuple[Inversion, ...]
    discordant_pairs: int  # all band pairs (not only neighbours) whose bad rates go the wrong way
    pairs: int
    source: str  # "score bands" or "grades"

    @property
    def monotone(self) -> bool:
        return not self.inversions

    @property
    def riskiest(self) -> Any:
        return self.table["band"].iloc[-1]

    @property
    def safest(self) -> Any:
        return self.table["band"].iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The band table; ``inversion`` marks a band whose bad rate is below the (safer) band before it."""
        out = self.table.copy()
        rate = out["bad_rate"].to_numpy()
        out["inversion"] = np.append(False, rate[1:] < rate[:-1])
        out["position"] = ""
        out.loc[out.index[0], "position"] = "safest"
        out.loc[out.index[-1], "position"] = "riskiest"
        return out

    def inversions_frame(self) -> pd.DataFrame:
        cols = ["safer", "riskier", "safer_bad_rate", "riskier_bad_rate", "gap", "p_value"]
        return pd.DataFrame([{c: getattr(inv, c) for c in cols} for inv in self.inversions], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        rate = self.table["bad_rate"]
        return {
            "source": self.source, "bands": len(self.table), "monotone": self.monotone,
            "inversions": len(self.inversions), "discordant_pairs": self.discordant_pairs, "pairs": self.pairs,
            "safest": _plain(self.safest), "riskiest": _plain(self.riskiest),
            "safest_bad_rate": float(rate.iloc[0]), "riskiest_bad_rate": float(rate.iloc[-1]),
        }

    def summary(self, alpha: float = 0.05) -> str:
        """One sentence for the committee."""
        d = self.to_dict()
        head = (f"Bad rate goes from {d['safest_bad_rate']:.1%} in the safest of {d['bands']} {self.source} "
                f"to {d['riskiest_bad_rate']:.1%} in the riskiest")
        if self.monotone:
            return head + "; it never falls from one band to the next."
        where = ", ".join(f"{i.safer}→{i.riskier}" for i in self.inversions)
        real = sum(i.p_value < alpha for i in self.inversions)
        return (head + f"; it falls {len(self.inversions)} time(s) ({where}), "
                f"{real} of them significant at {alpha:.0%} (one-sided Fisher exact test).")


def rank_ordering(y_true: Any, y_score: Any, *, bins: int = 10, grades: Any = None) -> RankOrdering:
    """Bad rate by score band (deciles by default; ties never split) or by user grade, and its inversions.

    Bands run from the safest (lowest mean P(bad)) to the riskiest. An inversion is a neighbouring
    pair whose bad rate falls; each carries a one-sided Fisher exact p-value (Agresti, 2002, §3.5),
    because with a few hundred applicants per band small reversals are expected by chance.
    ``discordant_pairs`` counts every band pair — not only neighbours — that goes the wrong way.
    """
    y, s = check_y_score(y_true, y_score)
    if len(s) == 0:
        raise MetricError("There are no applicants to put into bands.", "Pass at least one applicant.")
    codes, labels, source = _bands(s, bins, grades)
    if len(labels) < 2:
        raise MetricError(
            "All applicants fall into one band, so rank ordering cannot be judged.",
            "The scores are (nearly) constant: check the model, or pass grades.",
        )
    table = _band_table(y, s, codes, labels)
    rate = table["bad_rate"].to_numpy()
    bads = table["bads"].to_numpy()
    goods = table["applicants"].to_numpy() - bads
    inversions = []
    for i in np.flatnonzero(rate[1:] < rate[:-1]):
        p = stats.fisher_exact([[bads[i + 1], goods[i + 1]], [bads[i], goods[i]]], alternative="less").pvalue
        inversions.append(Inversion(_plain(labels[i]), _plain(labels[i + 1]), float(rate[i]), float(rate[i + 1]),
                                    float(rate[i] - rate[i + 1]), float(p)))
    k = len(rate)
    discordant = int(np.triu(rate[None, :] < rate[:, None], 1).sum())
    return RankOrdering(table, tuple(inversions), discordant, k * (k - 1) // 2, source)


def cumulative_capture(y_true: Any, y_score: Any, *, points: int = 101) -> pd.DataFrame:
    """Cumulative accuracy profile (CAP): share of all bads captured when taking applicants riskiest first.

    Engelmann, Hayden & Tasche (2003). Rows are ``points`` evenly spaced shares of applicants from 0
    to 1. Tied scores cannot be ordered, so within a run of ties the curve is a straight line (the
    expected capture of a random order); with that convention the accuracy ratio read from the curve,
    (area under model − ½) / (area under perfect − ½), equals 2·AUC − 1 exactly when the grid holds
    every applicant (``points = n + 1``). ``random`` is the diagonal, ``perfect`` captures every bad by
    the bad rate; ``lift`` = captured share / applicant share (undefined at 0); ``lowest_score`` is the
    lowest P(bad) among the applicants taken so far.
    """
    y, s = check_y_score(y_true, y_score)
    n_bad, _ = _both_classes(y)
    points = _as_count(points, "number of curve points", "Use the default 101 (every percent).")
    if not (2 <= points <= MAX_POINTS):
        raise SpecError(f"The number of curve points must be between 2 and {MAX_POINTS} (got {points}).",
                        "Use the default 101 (every percent).")
    n = len(s)
    order = np.argsort(-s)
    s_desc = s[order]
    run = _runs(s_desc)
    taken = np.cumsum(np.bincount(run))  # applicants taken after each run of ties
    captured = np.cumsum(np.bincount(run, weights=y[order]))
    x_knots = np.append(0.0, taken / n)
    y_knots = np.append(0.0, captured / n_bad)
    share = np.linspace(0.0, 1.0, points)
    model = np.interp(share, x_knots, y_knots)
    k = np.ceil(share * n - 1e-9).astype(np.int64)  # applicants (at least partly) taken
    lowest = np.where(k > 0, s_desc[np.clip(k - 1, 0, n - 1)], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(share > 0, model / share, np.nan)
    return pd.DataFrame({
        "share_of_applicants": share, "lowest_score": lowest, "share_of_bads_captured": model,
        "random": share, "perfect": np.minimum(share * n / n_bad, 1.0), "lift": lift,
    })
