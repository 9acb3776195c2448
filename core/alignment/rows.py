"""No leakage: the rows a score map is fitted on are never the rows it is judged on.

A map fitted on the evaluation rows would grade its own homework: an isotonic recalibration fitted
on the very outcomes it is scored against looks better than any map can be on new applicants
(Niculescu-Mizil & Caruana, "Predicting good probabilities with supervised learning", ICML 2005,
fit calibration on held-out data for this reason). So the fit rows are the workspace's training
split when it has one, otherwise a seeded, stratified calibration split carved out of the
evaluation rows — and then the evaluation rows shrink to the rest, which every page and the
report must say. ``AlignmentRows`` refuses overlapping index sets outright.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.alignment.spec import ROWS_AUTO, ROWS_CALIBRATION, ROWS_TRAIN, AlignmentSpec
from core.errors import DataError, SpecError
from core.hashing import digest

SOURCE_NONE, SOURCE_TRAIN, SOURCE_CALIBRATION = "none", "train", "calibration"
MIN_FIT_ROWS = 20  # fewer rows cannot pin down even two parameters
MIN_EVAL_ROWS = 20  # the evaluation rows left after a calibration split must still measure something


def _as_index(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values).reshape(-1)
    if arr.size and (arr.dtype.kind not in "iu" or arr.min() < 0):
        raise SpecError(f"The {what} must be non-negative row numbers.", "Pass the workspace's row indices.")
    return np.sort(arr.astype(np.int64))


@dataclass(frozen=True, eq=False)
class AlignmentRows:
    """Row numbers (into the bound dataset) the map is fitted on, and the rows left to evaluate on.

    ``source`` is ``"train"`` (the training split; evaluation rows unchanged), ``"calibration"``
    (carved out of the evaluation rows, which shrink accordingly) or ``"none"`` (no alignment).
    """

    fit_idx: np.ndarray
    eval_idx: np.ndarray
    source: str
    note: str
    seed: int | None = None
    calibration_share: float | None = None
    original_eval_rows: int = 0  # evaluation rows before any calibration split

    def __post_init__(self) -> None:
        fit, ev = _as_index(self.fit_idx, "fit rows"), _as_index(self.eval_idx, "evaluation rows")
        overlap = np.intersect1d(fit, ev)
        if len(overlap):
            raise SpecError(
                f"The score map would be fitted on {len(overlap)} of the rows it is evaluated on, which "
                "would make the aligned model look better than it is.",
                "Fit the map on the training split or on a calibration split set aside from the evaluation rows.",
            )
        object.__setattr__(self, "fit_idx", fit)
        object.__setattr__(self, "eval_idx", ev)

    @property
    def n_fit(self) -> int:
        return len(self.fit_idx)

    @property
    def n_eval(self) -> int:
        return len(self.eval_idx)

    @property
    def shrinks_eval(self) -> bool:
        """True when the evaluation rows are fewer than before alignment (a calibration split was carved out)."""
        return self.source == SOURCE_CALIBRATION

    @property
    def key(self) -> str:
        return digest([self.source, self.fit_idx, self.eval_idx], length=16)

    def to_dict(self) -> dict:
        return {"source": self.source, "fit_rows": self.n_fit, "evaluation_rows": self.n_eval,
                "evaluation_rows_before": self.original_eval_rows, "seed": self.seed,
                "calibration_share": self.calibration_share, "note": self.note, "rows_sha256": self.key}


def calibration_split(eval_idx: np.ndarray, y_eval: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of the evaluation rows, stratified by outcome: (calibration rows, remaining rows)."""
    rng = np.random.default_rng(seed)
    fit, rest = [], []
    for cls in (0, 1):
        idx = eval_idx[y_eval == cls].copy()
        rng.shuffle(idx)
        k = round(share * len(idx))
        fit.append(idx[:k])
        rest.append(idx[k:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(rest))


def alignment_rows(spec: AlignmentSpec, *, eval_idx: Any, train_idx: Any, y: Any) -> AlignmentRows:
    """The rows to fit the map on and the rows to judge it on, never the same ones.

    ``y`` holds the labels (1 = bad) of the whole bound dataset, indexed by ``eval_idx`` /
    ``train_idx``. With ``spec.rows`` ``"auto"`` the training split is used when non-empty, else a
    calibration split of the evaluation rows (stratified by outcome, seeded by ``spec.seed``).
    """
    ev, tr = _as_index(eval_idx, "evaluation rows"), _as_index(train_idx, "training rows")
    labels = np.asarray(y).reshape(-1)
    if (len(ev) and ev.max() >= len(labels)) or (len(tr) and tr.max() >= len(labels)):
        raise SpecError("The row numbers point past the end of the dataset.", "Pass the workspace's row indices and labels.")
    if not spec.active:
        return AlignmentRows(np.arange(0), ev, SOURCE_NONE, "No score alignment; all evaluation rows are used.",
                             original_eval_rows=len(ev))
    source = spec.rows
    if source == ROWS_AUTO:
        source = ROWS_TRAIN if len(tr) else ROWS_CALIBRATION
    if source == ROWS_TRAIN:
        if len(tr) == 0:
            raise SpecError(
                "The score map was asked to use the training split, but these evaluation settings have none.",
                "Evaluate on a held-out split, or fit the map on a calibration split of the evaluation rows.",
            )
        if len(tr) < MIN_FIT_ROWS:
            raise DataError(f"The training split has {len(tr)} rows; fitting a score map needs at least {MIN_FIT_ROWS}.",
                            "Use a calibration split of the evaluation rows or upload more applicants.")
        return AlignmentRows(tr, ev, SOURCE_TRAIN,
                             f"Map fitted on the {len(tr)} training rows; evaluated on the {len(ev)} evaluation rows.",
                             original_eval_rows=len(ev))
    y_ev = labels[ev]
    fit, rest = calibration_split(ev, y_ev, spec.calibration_share, spec.seed)
    n_bad = (int(labels[fit].sum()), int(labels[rest].sum()))
    n_good = (len(fit) - n_bad[0], len(rest) - n_bad[1])
    if len(fit) < MIN_FIT_ROWS or len(rest) < MIN_EVAL_ROWS or min(n_bad + n_good) == 0:
        raise DataError(
            f"The {len(ev)} evaluation rows ({int(y_ev.sum())} bad) are too few to set aside a calibration split "
            f"of {spec.calibration_share:.0%} and still evaluate on the rest.",
            "Evaluate on a held-out split (the map is then fitted on its training rows) or upload more applicants.",
        )
    note = (f"Map fitted on a calibration split of {len(fit)} of the {len(ev)} evaluation rows "
            f"(stratified by outcome, seed {spec.seed}); evaluated on the other {len(rest)} rows only.")
    return AlignmentRows(fit, rest, SOURCE_CALIBRATION, note, spec.seed, spec.calibration_share, len(ev))


def rows_for(workspace: Any, spec: AlignmentSpec) -> AlignmentRows:
    """``alignment_rows`` for a bound workspace (anything with ``eval_idx``, ``train_idx`` and ``data.y``)."""
    return alignment_rows(spec, eval_idx=workspace.eval_idx, train_idx=workspace.train_idx, y=workspace.data.y)
