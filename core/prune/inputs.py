"""Input variables a pruned model no longer reads: which ones matter least, and what replaces them.

In credit risk the biggest saving of pruning is a variable not read at all: a data source not
bought, validated or monitored. A removed variable leaves the model's interface (the exported
model takes fewer columns) and the network is fed a documented constant in its place — its
**reference value**:

* a numeric variable: its training mean (from the schema when it records one; otherwise the mean
  of the reference rows — the training split when the workspace holds one out);
* a categorical variable (one-hot or integer code): its most frequent category (from the schema,
  else the reference rows); a schema-less column of whole numbers with few distinct values is
  treated as a code and gets its most frequent value — a mean of codes (2.37) is not a category
  an embedding table can look up.

Which variables go first, for any architecture: the **reference-value ablation** importance, the
mean absolute change of the model's output when the variable alone is set to its reference value
on the reference rows — exactly the harm its removal does to each applicant's score (the
"occlusion" view of feature importance, Zeiler & Fergus 2014; for a single variable it is the
effect measured by permutation-style importance, Breiman 2001, with the reference value instead
of a shuffle). Chains keep their cheaper first-layer criterion (``core.prune.importance``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.data.schema import FeatureSchema
from core.errors import SpecError

MAX_CODE_LEVELS = 50  # a whole-number column with at most this many values is treated as a code
ABLATION_ROWS = 512


@dataclass(frozen=True)
class InputFill:
    """What replaces one removed variable inside the pruned model.

    ``inputs`` are the model inputs the variable feeds (one, or one per category when one-hot),
    ``values`` their constant model-input values, ``raw`` the value in the data's own terms (a
    number, or a category label) and ``how`` where it comes from.
    """

    variable: str
    inputs: tuple[str, ...]
    positions: tuple[int, ...]
    values: tuple[float, ...]
    raw: float | str
    how: str

    def to_dict(self) -> dict:
        return {"variable": self.variable, "inputs": list(self.inputs), "values": list(self.values),
                "raw": self.raw, "how": self.how}


def _is_code_column(col: np.ndarray) -> bool:
    finite = col[np.isfinite(col)]
    return bool(len(finite)) and bool(np.all(np.mod(finite, 1) == 0)) and len(np.unique(finite)) <= MAX_CODE_LEVELS


def _mode(col: np.ndarray) -> float:
    values, counts = np.unique(col, return_counts=True)
    return float(values[np.argmax(counts)])  # ties: the smallest value (np.unique sorts)


def reference_fills(variables: Sequence[str], groups: Sequence[str], input_names: Sequence[str],
                    X_reference: np.ndarray | None, schema: FeatureSchema | None,
                    reference_label: str = "reference rows") -> list[InputFill]:
    """The reference value of each variable in ``variables``, in model-input space and raw terms."""
    groups = list(groups)
    names = list(input_names)
    X = None if X_reference is None else np.asarray(X_reference, dtype=np.float64)
    specs = {f.name: f for f in schema.features} if schema is not None else {}
    out = []
    for v in variables:
        pos = [j for j, g in enumerate(groups) if g == v]
        spec = specs.get(v)
        if spec is not None and spec.kind == "numeric":
            raw = spec.mean if spec.reference is None else float(spec.reference)
            values = spec.reference_inputs()
            how = "training mean (from the model's schema)"
            out.append(InputFill(v, tuple(names[j] for j in pos), tuple(pos), tuple(float(x) for x in values), float(raw), how))
            continue
        if spec is not None:  # categorical (one-hot) or code
            values = spec.reference_inputs()
            if values is not None:
                out.append(InputFill(v, tuple(names[j] for j in pos), tuple(pos), tuple(float(x) for x in values),
                                     str(spec.reference), "most frequent category in training (from the model's schema)"))
                continue
            if X is None or not len(X):
                raise SpecError(f"No reference value is known for variable '{v}'.",
                                "Pass the training rows as reference rows, or record references in the schema.")
            if spec.kind == "code":
                code = _mode(X[:, pos[0]])
                label = spec.categories[int(code)] if 0 <= int(code) < len(spec.categories) else str(code)
                out.append(InputFill(v, tuple(names[j] for j in pos), tuple(pos), (code,), label,
                                     f"most frequent category in the {reference_label}"))
            else:
                top = int(np.argmax(X[:, pos].sum(axis=0)))
                onehot = tuple(1.0 if k == top else 0.0 for k in range(len(pos)))
                out.append(InputFill(v, tuple(names[j] for j in pos), tuple(pos), onehot, spec.categories[top],
                                     f"most frequent category in the {reference_label}"))
            continue
        if X is None or not len(X):
            out.append(InputFill(v, tuple(names[j] for j in pos), tuple(pos), tuple(0.0 for _ in pos), 0.0,
                                 "zero (no reference rows were given)"))
            continue
        if len(pos) > 1:  # one-hot dummies without a schema: the most frequent dummy set
            top = int(np.argmax(X[:, pos].sum(axis=0)))
            onehot = tuple(1.0 if k == top else 0.0 for k in range(len(pos)))
            out.append(InputFill(v, tuple(names[j] for j in pos), tuple(pos), onehot, names[pos[top]],
                                 f"most frequent category in the {reference_label}"))
            continue
        col = X[:, pos[0]]
        if _is_code_column(col):
            value = _mode(col)
            out.append(InputFill(v, (names[pos[0]],), tuple(pos), (value,), value,
                                 f"most frequent value in the {reference_label} (a whole-number column: treated as a code)"))
        else:
            value = float(col.mean())
            out.append(InputFill(v, (names[pos[0]],), tuple(pos), (value,), value, f"mean of the {reference_label}"))
    return out


def fill_vector(n_inputs: int, fills: Sequence[InputFill]) -> np.ndarray:
    """A full-width input row: each removed input at its reference value, kept inputs at 0 (unused)."""
    row = np.zeros(n_inputs, dtype=np.float64)
    for f in fills:
        row[list(f.positions)] = f.values
    return row


def ablation_importance(module: nn.Module, X_reference: np.ndarray, groups: Sequence[str],
                        fills: Sequence[InputFill], rows: int = ABLATION_ROWS) -> np.ndarray:
    """Mean |Δ output| over the reference rows when each variable alone is set to its reference value."""
    X = np.asarray(X_reference, dtype=np.float32)[:rows]
    if not len(X):
        raise SpecError("Input-variable pruning needs reference rows to judge the variables.",
                        "Pass the training (or evaluation) rows as reference rows.")
    module = module.eval()
    with torch.inference_mode():
        base = module(torch.from_numpy(np.ascontiguousarray(X))).reshape(len(X), -1).to(torch.float64)
        batch = []
        for f in fills:
            Xa = X.copy()
            Xa[:, list(f.positions)] = np.asarray(f.values, dtype=np.float32)
            batch.append(Xa)
        stacked = torch.from_numpy(np.ascontiguousarray(np.concatenate(batch)))
        out = module(stacked).reshape(len(stacked), -1).to(torch.float64)
    out = out.reshape(len(fills), len(X), -1)
    return (out - base[None]).abs().sum(dim=2).mean(dim=1).numpy()
