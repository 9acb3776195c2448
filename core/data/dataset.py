"""A labelled evaluation set: the target encoded as 1 = bad, the model's input matrix, and provenance.

Target values are compared as text (1, 1.0, '1' and True mean what users expect), the default
column mapping of a schema-less model skips identifier columns, and the split that separates
training from evaluation rows is seeded and stratified so a validator can rebuild it.
The caller's frame is never modified.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.data.schema import FeatureSchema
from core.errors import DataError

MIN_ROWS = 10
_BAD_WORDS = ("bad", "1", "true", "yes", "y", "default", "defaulted", "charged off")


@dataclass(frozen=True)
class Dataset:
    """Model-ready evaluation data: inputs X (float32), labels y (1 = bad) and provenance."""

    X: np.ndarray
    y: np.ndarray
    input_names: tuple[str, ...]
    groups: tuple[str, ...]
    target: str
    bad_value: str
    frame: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return int(len(self.y))

    @property
    def bad_rate(self) -> float:
        return float(self.y.mean()) if len(self.y) else float("nan")

    @property
    def fingerprint(self) -> str:
        """Hash of exactly what the model sees; the cache key for every computation on it."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        h.update("\x1f".join(self.input_names).encode())
        return h.hexdigest()


def label_text(value: object) -> str:
    """Canonical text of a target value, so 1, 1.0, '1' and True/'True' compare as users expect."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def target_values(frame: pd.DataFrame, target: str) -> list[str]:
    if target not in frame.columns:
        raise DataError(
            f"The dataset has no target column '{target}'.",
            f"Pick the column that says whether the applicant defaulted (columns: {', '.join(map(str, frame.columns[:10]))}…).",
        )
    return sorted({label_text(v) for v in frame[target].dropna().tolist()})


def guess_bad_value(values: list[str]) -> str | None:
    lowered = {v.lower(): v for v in values}
    for word in _BAD_WORDS:
        if word in lowered:
            return lowered[word]
    return None


def resolve_bad_value(values: list[str], bad_value: object) -> str:
    """The target value meant by ``bad_value``: exact text first, then the same word in another case."""
    bad = label_text(bad_value)
    if bad not in values:  # 'yes' for Yes/No, 'true' for True/False
        same = [v for v in values if v.lower() == bad.lower()]
        if len(same) == 1:
            return same[0]
    return bad


def encode_target(frame: pd.DataFrame, target: str, bad_value: str) -> np.ndarray:
    values = target_values(frame, target)
    n_missing = int(frame[target].isna().sum())
    if n_missing:
        raise DataError(
            f"The target column '{target}' is empty in {n_missing} row(s).",
            "Remove rows without an outcome; they cannot be used to validate a model.",
        )
    if len(values) == 1:
        raise DataError(
            f"The target column '{target}' holds only one outcome ('{values[0]}'), so good and bad "
            "applicants cannot be told apart.",
            "Upload data with both good and bad outcomes, or pick the column that flags defaults.",
        )
    if len(values) != 2:
        shown = ", ".join(f"'{v}'" for v in values[:6])
        raise DataError(
            f"The target column '{target}' must have exactly two outcomes, but has {len(values)}: {shown}.",
            "Pick a binary default flag (e.g. good/bad or 0/1), or recode the column.",
        )
    bad = resolve_bad_value(values, bad_value)
    if bad not in values:
        raise DataError(
            f"'{bad_value}' does not occur in the target column '{target}' (values: {', '.join(values)}).",
            "Pick the value that marks a default (bad outcome).",
        )
    return np.fromiter((label_text(v) == bad for v in frame[target].tolist()), dtype=np.int8, count=len(frame))


def numeric_columns(frame: pd.DataFrame, exclude: str | None = None) -> list[str]:
    return [
        c for c in frame.columns
        if c != exclude and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def looks_like_identifier(frame: pd.DataFrame, column: str) -> bool:
    """An applicant/contract number: named like an id and holding distinct whole numbers.

    Feeding such a column to a model is always a mapping mistake, so the default mapping skips it.
    """
    name = str(column).lower()
    if not re.search(r"(^|[_\s-])(id|key|no|nr|number|ref)$|^id[_\s-]", name):
        return False
    values = frame[column].dropna()
    return len(values) > 0 and values.is_unique and bool(np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0))


def default_inputs(frame: pd.DataFrame, target: str, n_inputs: int | None = None) -> list[str]:
    """The default column mapping of a schema-less model: numeric non-identifier columns in file order.

    When the file has more such columns than the model has inputs, the first ``n_inputs`` are taken
    and the user is shown the choice to correct.
    """
    cols = [c for c in numeric_columns(frame, exclude=target) if not looks_like_identifier(frame, c)]
    return cols[:n_inputs] if n_inputs is not None else cols


def prepare_dataset(
    frame: pd.DataFrame,
    target: str,
    bad_value: str,
    schema: FeatureSchema | None = None,
    feature_columns: list[str] | None = None,
    n_inputs: int | None = None,
) -> Dataset:
    """Build inputs and labels: via the model's schema, or from named numeric columns in order."""
    frame = frame.copy()  # never modify the caller's frame
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"The dataset has {len(frame)} row(s); at least {MIN_ROWS} are needed to measure anything.",
            "Upload more applicants (validation usually uses hundreds or more).",
        )
    y = encode_target(frame, target, bad_value)
    if y.min() == y.max():  # pragma: no cover - encode_target guarantees two values
        raise DataError("Only one outcome occurs in the target.", "Upload data with both good and bad outcomes.")
    if schema is not None:
        X = schema.transform(frame)
        names, groups = schema.input_names, schema.groups
    else:
        cols = feature_columns if feature_columns is not None else numeric_columns(frame, exclude=target)
        if target in cols:
            raise DataError(
                f"The target '{target}' is also selected as a model input.",
                "Remove it from the inputs: a model must not see the outcome.",
            )
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"Column(s) {', '.join(map(repr, missing))} are not in the dataset.", "Pick existing columns.")
        if any(not pd.api.types.is_numeric_dtype(frame[c]) for c in cols):
            raise DataError(
                "Without an embedded schema only numeric columns can be fed to the model; "
                f"{', '.join(repr(c) for c in cols if not pd.api.types.is_numeric_dtype(frame[c]))} hold text.",
                "Pick numeric columns, or export the model with its feature schema.",
            )
        X = frame[cols].to_numpy(dtype="float64") if cols else np.zeros((len(frame), 0))
        bad = ~np.isfinite(X)
        if bad.any():
            col = cols[int(np.argwhere(bad)[0][1])]
            raise DataError(
                f"{int(bad.any(axis=1).sum())} row(s) have missing or infinite inputs (first in column '{col}').",
                "Impute or remove those rows before uploading.",
            )
        X = X.astype("float32")
        names, groups = list(cols), list(cols)
    if n_inputs is not None and X.shape[1] != n_inputs:
        raise DataError(
            f"The model expects {n_inputs} inputs but the dataset provides {X.shape[1]}.",
            "Select exactly the columns the model was trained on, in training order.",
        )
    return Dataset(
        X=X, y=y, input_names=tuple(names), groups=tuple(groups), target=target,
        bad_value=resolve_bad_value(target_values(frame, target), bad_value), frame=frame,
    )


def stratified_split(y: np.ndarray, seed: int, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> dict[str, np.ndarray]:
    """Seeded stratified train/validation/test row indices, so validators can rebuild the split."""
    if not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise DataError("Split fractions must be positive and sum to 1.", "Use e.g. (0.6, 0.2, 0.2).")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "validation": [], "test": []}
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        parts["train"].append(idx[:n_train])
        parts["validation"].append(idx[n_train:n_train + n_val])
        parts["test"].append(idx[n_train + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}
