"""Governance: segment fairness, adverse-action reason stability, drift on later data.

Pruning a production credit model is a model change; these answer what fair-lending and
model-risk reviewers ask beyond the headline metrics.
"""
from core.governance.drift import CHARACTERISTIC_BINS, UNSEEN, CharacteristicPSI, OutOfTime, characteristic_psi
from core.governance.reasons import DEFAULT_REASONS, ReasonStability, adverse_action_reasons, reason_overlap, top_reasons
from core.governance.segments import (
    DEFAULT_BANDS,
    FOUR_FIFTHS,
    MISSING,
    Segmentation,
    SegmentFairness,
    SegmentSpec,
    adverse_impact_ratios,
    segment,
    segment_fairness,
)

__all__ = [
    "CHARACTERISTIC_BINS", "UNSEEN", "CharacteristicPSI", "OutOfTime", "characteristic_psi", "DEFAULT_REASONS",
    "ReasonStability", "adverse_action_reasons", "reason_overlap", "top_reasons", "DEFAULT_BANDS", "FOUR_FIFTHS", "MISSING",
    "SegmentFairness", "SegmentSpec", "Segmentation", "adverse_impact_ratios", "segment", "segment_fairness",
]
