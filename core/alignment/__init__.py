"""Score alignment: a small monotone map appended to a pruned model so its scores keep the original's scale.

Pruning tends to keep the ranking and squeeze the scale; cutoffs, PD grades and PSI monitoring
run on the scale. ``AlignmentSpec`` names the map (align to the original / recalibrate to
outcomes; affine or isotonic), ``alignment_rows``/``rows_for`` choose fit rows that are never
evaluation rows, ``fit_alignment``/``fit_for`` fit it, ``aligned_module``/``aligned_result``
append it (scriptable, ONNX-exportable), ``alignment_effect`` shows before and after.
"""
from core.alignment.effect import AlignmentEffect, alignment_effect
from core.alignment.fit import (
    MAX_KNOTS,
    FittedAlignment,
    aligned_module,
    aligned_result,
    fit_alignment,
    fit_for,
    isotonic_knots,
    least_squares_affine,
    platt_scaling,
    thin_knots,
)
from core.alignment.maps import AffineLogitMap, AlignedModel, PiecewiseLinearLogitMap
from core.alignment.rows import (
    MIN_FIT_ROWS,
    SOURCE_CALIBRATION,
    SOURCE_NONE,
    SOURCE_TRAIN,
    AlignmentRows,
    alignment_rows,
    calibration_split,
    rows_for,
)
from core.alignment.spec import (
    AFFINE,
    DEFAULT_CALIBRATION_SHARE,
    ISOTONIC,
    METHOD_LABELS,
    METHODS,
    NO_ALIGNMENT,
    NONE,
    ROWS,
    ROWS_AUTO,
    ROWS_CALIBRATION,
    ROWS_TRAIN,
    SHAPES,
    TO_ORIGINAL,
    TO_OUTCOMES,
    AlignmentSpec,
)

__all__ = [
    "AFFINE",
    "DEFAULT_CALIBRATION_SHARE",
    "ISOTONIC",
    "MAX_KNOTS",
    "METHODS",
    "METHOD_LABELS",
    "MIN_FIT_ROWS",
    "NONE",
    "NO_ALIGNMENT",
    "ROWS",
    "ROWS_AUTO",
    "ROWS_CALIBRATION",
    "ROWS_TRAIN",
    "SHAPES",
    "SOURCE_CALIBRATION",
    "SOURCE_NONE",
    "SOURCE_TRAIN",
    "TO_ORIGINAL",
    "TO_OUTCOMES",
    "AffineLogitMap",
    "AlignedModel",
    "AlignmentEffect",
    "AlignmentRows",
    "AlignmentSpec",
    "FittedAlignment",
    "PiecewiseLinearLogitMap",
    "aligned_module",
    "aligned_result",
    "alignment_effect",
    "alignment_rows",
    "calibration_split",
    "fit_alignment",
    "fit_for",
    "isotonic_knots",
    "least_squares_affine",
    "platt_scaling",
    "rows_for",
    "thin_knots",
]
