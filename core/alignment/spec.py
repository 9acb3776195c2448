"""What score alignment to apply after pruning: the method, the shape of the map and the rows it is fitted on.

Credit decisions run on the *scale* of a score (cutoffs, PD grades, PSI monitoring, limits), not
only on its ranking. Pruning tends to keep the ranking and squeeze the scale, so a small monotone
map appended to the pruned model can restore the scale without touching the ranking — the same
re-anchoring credit teams do when a scorecard is refitted. The spec names that map; it is a typed,
validated value with a ``key`` so every fitted map can be cached and reproduced.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from core.errors import SpecError

NONE, TO_ORIGINAL, TO_OUTCOMES = "none", "to_original", "to_outcomes"
METHODS = (NONE, TO_ORIGINAL, TO_OUTCOMES)
AFFINE, ISOTONIC = "affine", "isotonic"
SHAPES = (AFFINE, ISOTONIC)
ROWS_AUTO, ROWS_TRAIN, ROWS_CALIBRATION = "auto", "train", "calibration"
ROWS = (ROWS_AUTO, ROWS_TRAIN, ROWS_CALIBRATION)
DEFAULT_CALIBRATION_SHARE = 0.6  # the 60 / 40 split of issue 21's measurement
MIN_CALIBRATION_SHARE, MAX_CALIBRATION_SHARE = 0.1, 0.9

METHOD_LABELS = {
    NONE: "none",
    TO_ORIGINAL: "align to the original",
    TO_OUTCOMES: "recalibrate to outcomes",
}
SHAPE_LABELS = {
    (TO_ORIGINAL, AFFINE): "affine map of the pruned logit onto the original logit (least squares)",
    (TO_ORIGINAL, ISOTONIC): "monotone (isotonic) map of the pruned logit onto the original logit",
    (TO_OUTCOMES, AFFINE): "Platt scaling: logistic regression of the outcomes on the pruned logit",
    (TO_OUTCOMES, ISOTONIC): "isotonic regression of the outcomes on the pruned logit",
}
ROWS_LABELS = {
    ROWS_AUTO: "the training split when there is one, else a calibration split of the evaluation rows",
    ROWS_TRAIN: "the training split",
    ROWS_CALIBRATION: "a seeded, stratified calibration split carved out of the evaluation rows",
}


def _choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(f"Unknown alignment {what} {value!r}.", f"Use one of: {', '.join(allowed)}.")
    return value


@dataclass(frozen=True)
class AlignmentSpec:
    """Which map to append to a pruned model, and on which rows to fit it.

    ``method``: ``"none"``, ``"to_original"`` (map the pruned logit onto the original model's
    logit) or ``"to_outcomes"`` (recalibrate the pruned logit to the observed outcomes).
    ``shape``: ``"affine"`` (two parameters; for outcomes this is Platt scaling) or
    ``"isotonic"`` (monotone piecewise-linear). ``rows``: ``"train"``, ``"calibration"`` or
    ``"auto"`` (train when the workspace has a training split, else calibration). ``seed`` and
    ``calibration_share`` fix the calibration split carved out of the evaluation rows.
    """

    method: str = NONE
    shape: str = AFFINE
    rows: str = ROWS_AUTO
    seed: int = 0
    calibration_share: float = DEFAULT_CALIBRATION_SHARE

    def __post_init__(self) -> None:
        _choice(self.method, METHODS, "method")
        _choice(self.shape, SHAPES, "shape")
        _choice(self.rows, ROWS, "row choice")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or int(self.seed) < 0:
            raise SpecError(f"The alignment seed must be a whole number ≥ 0 (got {self.seed!r}).", "Use e.g. seed 0.")
        object.__setattr__(self, "seed", int(self.seed))
        share = self.calibration_share
        if isinstance(share, bool) or not isinstance(share, (int, float, np.integer, np.floating)) or not np.isfinite(share) \
                or not (MIN_CALIBRATION_SHARE <= float(share) <= MAX_CALIBRATION_SHARE):
            raise SpecError(
                f"The calibration share {share!r} is outside [{MIN_CALIBRATION_SHARE}, {MAX_CALIBRATION_SHARE}].",
                "It is the share of the evaluation rows set aside to fit the map, e.g. 0.6; the rest stay for evaluation.",
            )
        object.__setattr__(self, "calibration_share", float(share))

    @property
    def active(self) -> bool:
        """False for ``"none"``: nothing is fitted, no rows are set aside."""
        return self.method != NONE

    @property
    def key(self) -> str:
        """Cache key: equal keys fit the same map on the same workspace and pruned model."""
        if not self.active:
            return json.dumps([NONE])
        return json.dumps([self.method, self.shape, self.rows, self.seed, round(self.calibration_share, 6)])

    @property
    def label(self) -> str:
        """One phrase for pages and reports, e.g. 'align to the original — affine map … (least squares)'."""
        if not self.active:
            return "no score alignment"
        return f"{METHOD_LABELS[self.method]} — {SHAPE_LABELS[(self.method, self.shape)]}"

    def to_dict(self) -> dict:
        return {"method": self.method, "method_label": METHOD_LABELS[self.method], "shape": self.shape,
                "rows": self.rows, "seed": self.seed, "calibration_share": self.calibration_share, "label": self.label}


NO_ALIGNMENT = AlignmentSpec()
