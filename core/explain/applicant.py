"""One applicant's attributions under both models, side by side."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.explain.attributions import Attributions, group_codes
from core.explain.shift import check_same_sample


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True, eq=False)
class ApplicantComparison:
    """One applicant's attributions under both models, with both base values and outputs (log-odds)."""

    row: int
    table: pd.DataFrame
    base_value_original: float
    base_value_pruned: float
    output_original: float
    output_pruned: float
    level: str

    @property
    def pbad_original(self) -> float:
        return _sigmoid(self.output_original)

    @property
    def pbad_pruned(self) -> float:
        return _sigmoid(self.output_pruned)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> dict[str, float]:
        return {
            "row": self.row,
            "base_value_original": self.base_value_original,
            "base_value_pruned": self.base_value_pruned,
            "output_original": self.output_original,
            "output_pruned": self.output_pruned,
            "pbad_original": self.pbad_original,
            "pbad_pruned": self.pbad_pruned,
        }


def _variable_values(x: np.ndarray, feature_names: Sequence[str], groups: Sequence[str], raw: Mapping[str, Any] | None) -> list[Any]:
    """What to show as a variable's value: the raw value when known, else the active dummy's category."""
    names, codes = group_codes([str(g) for g in groups])
    out: list[Any] = []
    for gi, name in enumerate(names):
        if raw is not None and name in raw:
            out.append(raw[name])
            continue
        members = np.flatnonzero(codes == gi)
        if len(members) == 1:
            out.append(float(x[members[0]]))
            continue
        active = [str(feature_names[j]) for j in members if x[j] == 1.0]
        labels = [a.split("=", 1)[1] if a.startswith(f"{name}=") else a for a in active]
        out.append(", ".join(labels) if labels else "")
    return out


def compare_applicant(
    original: Attributions,
    pruned: Attributions,
    row: int,
    groups: Sequence[str] | None = None,
    raw: Mapping[str, Any] | None = None,
) -> ApplicantComparison:
    """One applicant's φ under both models as a tidy table (feature or variable, value, φ each).

    ``row`` is the applicant's row in the evaluation data (one of ``original.row_index``).
    ``groups`` switches to the variable view; ``raw`` (e.g. ``dataset.frame.iloc[row]``) supplies
    the raw value of each variable, else the active category of one-hot dummies is shown.
    """
    check_same_sample(original, pruned)
    pos = original.position(row)
    x = original.inputs[pos] if original.inputs is not None else np.full(original.n_features, np.nan)
    if original.level == "variable":  # explained per variable already: raw values when given
        values = [raw.get(name, "") if raw is not None else "" for name in original.feature_names]
        o, p = original, pruned
    elif groups is not None:
        values = _variable_values(x, original.feature_names, groups, raw)
        o, p = original.grouped(groups), pruned.grouped(groups)
    else:
        values = [float(v) for v in x]
        o, p = original, pruned
    table = pd.DataFrame({
        o.level: list(o.feature_names),
        "value": pd.Series(values, dtype=object if (groups is not None or original.level == "variable") else np.float64),
        "shap_original": o.values[pos],
        "shap_pruned": p.values[pos],
    })
    table["shap_change"] = table["shap_pruned"] - table["shap_original"]
    return ApplicantComparison(
        row=int(row),
        table=table,
        base_value_original=float(original.base_value),
        base_value_pruned=float(pruned.base_value),
        output_original=float(original.outputs[pos]),
        output_pruned=float(pruned.outputs[pos]),
        level=o.level,
    )
