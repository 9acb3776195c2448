"""Workspace: a model bound to a dataset, and the operations the pages, the CLI and the Python API share."""
from core.workspace.binding import (
    DEFAULT_SPLIT_SEED,
    EVAL_ALL,
    EVAL_HOLDOUT,
    Workspace,
    bind,
    is_training_data,
)
from core.workspace.governance import (
    adverse_action_reasons_for,
    eval_frame,
    out_of_time,
    prepare_oot,
    segment_fairness_for,
)
from core.workspace.operations import (
    PrunedModel,
    attributions_for,
    compare_workspace,
    prune_workspace,
    reference_inputs,
    sample_for,
    scored,
)

__all__ = [
    "DEFAULT_SPLIT_SEED", "EVAL_ALL", "EVAL_HOLDOUT", "Workspace", "bind", "is_training_data", "adverse_action_reasons_for",
    "eval_frame", "out_of_time", "prepare_oot", "segment_fairness_for", "PrunedModel", "attributions_for",
    "compare_workspace", "prune_workspace", "reference_inputs", "sample_for", "scored",
]
