"""Validation at the door: every public metric checks its inputs here, once, with a user-facing error."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import MetricError, SpecError

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


def check_y_score(y_true: Any, y_score: Any, what: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    """The one input check of single-model metrics: labels 0/1 and P(bad) in [0, 1], equally long."""
    s = as_scores(y_score, what)
    return as_labels(y_true, len(s)), s


def check_paired(y_true: Any, original: Any, pruned: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one input check of two-model metrics: both models scored the same applicants."""
    so = as_scores(original, "original scores")
    sp = as_scores(pruned, "pruned scores")
    if len(so) != len(sp):
        raise MetricError(f"There are {len(so)} original scores but {len(sp)} pruned scores.",
                          "Score the same applicants with both models.")
    return as_labels(y_true, len(so)), so, sp
