"""Validation of a model change: the challenger, seed stability, the change record and the pack that gathers them.

    pack = build_pack(ws, setting, pruned, comparison, rule=rule, policy=policy, options=PackOptions())
    pack.verdict.headline, pack.materiality.headline, pack.challenger.justification[1].sentence

Every statistic is one of ``core.metrics`` (references there); this package decides which are
computed on which rows, and what a validator is told about them.
"""
from core.validation.challenger import (
    CROSS_VALIDATED,
    JUSTIFIED,
    MODEL_LABELS,
    NOT_JUSTIFIED,
    NOT_SHOWN,
    TRAINED,
    Challenger,
    ChallengerSpec,
    Justification,
    ModelPerformance,
    build_challenger,
    challenger_for,
    cross_validated_scores,
    fit_logistic,
    justify,
    performance,
)
from core.validation.change_record import (
    MATERIAL,
    NON_MATERIAL,
    REFERENCES,
    SIGN_OFF_ROLES,
    ChangeRecord,
    Materiality,
    MaterialityPolicy,
    MonitoringPolicy,
    Reference,
    Trigger,
    materiality,
    monitoring_triggers,
    reference_bins,
    references_frame,
    sign_off_frame,
    triggers_frame,
)
from core.validation.pack import (
    AlignmentSection,
    ModelCalibration,
    PackOptions,
    ValidationPack,
    alignment_section,
    build_pack,
    check_grade_edges,
    grades_of,
    guess_exposure_column,
)
from core.validation.seed_stability import DEFAULT_SEEDS, SeedStability, seed_stability, stability_seeds

__all__ = [
    "CROSS_VALIDATED", "JUSTIFIED", "MODEL_LABELS", "NOT_JUSTIFIED", "NOT_SHOWN", "TRAINED", "Challenger", "ChallengerSpec",
    "Justification", "ModelPerformance", "build_challenger", "challenger_for", "cross_validated_scores", "fit_logistic", "justify",
    "performance", "MATERIAL", "NON_MATERIAL", "REFERENCES", "SIGN_OFF_ROLES", "ChangeRecord", "Materiality", "MaterialityPolicy",
    "MonitoringPolicy", "Reference", "Trigger", "materiality", "monitoring_triggers", "reference_bins", "references_frame",
    "sign_off_frame", "triggers_frame", "AlignmentSection", "ModelCalibration", "PackOptions", "ValidationPack",
    "alignment_section", "build_pack", "check_grade_edges", "grades_of", "guess_exposure_column", "DEFAULT_SEEDS",
    "SeedStability", "seed_stability", "stability_seeds",
]
