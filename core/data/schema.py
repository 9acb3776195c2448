"""Feature schema: how raw dataset columns become model inputs.

A model can carry its schema inside the TorchScript file (``_extra_files``), so a user uploads the
raw CSV the bank already has and RiskPrune applies the same one-hot encoding and scaling the model
was trained with. The schema also maps each model input back to its original variable, which is
what lets attributions be grouped by variable (a committee talks about "savings", not about
"savings=< 100 DM").

Three kinds of variable: ``numeric`` (standardised with the training mean and std),
``categorical`` (one-hot, one input per category) and ``code`` (one input holding the category's
position in ``categories`` as a whole number — what entity-embedding models look up). Each
variable may record a ``reference`` value in raw terms (training mean, most frequent category):
the value a pruned model feeds in for the variable once it no longer reads it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError, ModelError

SCHEMA_FILE = "riskprune_schema.json"
SCHEMA_FORMAT = "riskprune-schema/1"


KINDS = ("numeric", "categorical", "code")


@dataclass(frozen=True)
class FeatureSpec:
    """One raw variable: numeric (standardised with mean/std), categorical (one-hot) or code (integer index).

    ``mode`` is the most frequent training category of a categorical or code variable (None when the
    schema predates it); imputation uses it, as it uses ``mean`` for a numeric one. ``reference`` is
    the raw value a pruned model feeds in once it no longer reads the variable.
    """

    name: str
    kind: str  # "numeric" | "categorical" | "code"
    mean: float = 0.0
    std: float = 1.0
    categories: tuple[str, ...] = ()
    mode: str | None = None
    reference: float | str | None = None  # raw value fed in when the variable is pruned away

    def input_names(self) -> list[str]:
        if self.kind == "categorical":
            return [f"{self.name}={c}" for c in self.categories]
        return [self.name]

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "categorical" else 1

    def numeric_values(self, column: pd.Series) -> np.ndarray:
        """The column as float64 (NaN where empty, ±inf kept: callers count both as missing); text is refused by name."""
        values = pd.to_numeric(column, errors="coerce")
        bad_text = column[values.isna() & column.notna()]
        if len(bad_text):
            raise DataError(
                f"Column '{self.name}' should hold numbers but has text such as "
                f"'{bad_text.iloc[0]}' ({len(bad_text)} row(s)).",
                "Clean the column or check the decimal separator of the file.",
            )
        return values.to_numpy(dtype="float64", na_value=np.nan)

    def category_codes(self, column: pd.Series) -> np.ndarray:
        """Positions in ``categories`` (int32), -1 where the value is missing; unseen categories are refused by name.

        A code variable read from a numeric column matches its whole numbers to the categories
        ("3.0" is category "3"), so the model sees the code the file holds.
        """
        if self.kind == "code" and pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            text = column.map(lambda v: v if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v))).astype("string")
        else:
            text = column.astype("string")
        known = set(self.categories)
        unseen = sorted(set(text.dropna().unique()) - known)
        if unseen:
            shown = ", ".join(f"'{u}'" for u in unseen[:5])
            raise DataError(
                f"Column '{self.name}' has categories the model never saw in training: "
                f"{shown}.",
                f"Map them to one of the known categories ({len(self.categories)} known"
                + (f", e.g. '{self.categories[0]}'" if self.categories else "") + ") or remove those rows.",
            )
        return pd.Categorical(text, categories=list(self.categories)).codes.astype(np.int32)

    def reference_inputs(self) -> np.ndarray | None:
        """The model inputs this variable becomes at its reference value (None when none is recorded).

        A numeric without a recorded reference uses its training mean (input 0 after scaling).
        """
        if self.kind == "numeric":
            raw = self.mean if self.reference is None else float(self.reference)
            return np.array([(raw - self.mean) / self.std], dtype=np.float64)
        if self.reference is None or str(self.reference) not in self.categories:
            return None
        pos = self.categories.index(str(self.reference))
        if self.kind == "code":
            return np.array([float(pos)])
        onehot = np.zeros(len(self.categories))
        onehot[pos] = 1.0
        return onehot


@dataclass(frozen=True)
class FeatureSchema:
    """Everything needed to turn raw columns into the model's input matrix, plus provenance."""

    features: tuple[FeatureSpec, ...]
    target: str | None = None
    bad_value: str | None = None
    split_seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_names(self) -> list[str]:
        return [n for f in self.features for n in f.input_names()]

    @property
    def groups(self) -> list[str]:
        """Original variable of each model input, in input order."""
        return [f.name for f in self.features for _ in f.input_names()]

    @property
    def raw_columns(self) -> list[str]:
        return [f.name for f in self.features]

    def without(self, dropped: dict[str, Any]) -> FeatureSchema:
        """The schema of a model that no longer reads the ``dropped`` variables (name → record).

        The kept variables keep their encodings; each record (how the variable is filled inside
        the model, its raw reference value and its model-input values) is kept in
        ``extra["dropped_variables"]`` so the exported file says what it no longer needs.
        """
        unknown = [v for v in dropped if v not in self.raw_columns]
        if unknown:
            raise DataError(f"The schema has no variable(s) {', '.join(map(repr, unknown))}.", "Drop variables the schema describes.")
        kept = tuple(f for f in self.features if f.name not in dropped)
        extra = dict(self.extra)
        extra["dropped_variables"] = [dict(dropped[f.name], name=f.name) for f in self.features if f.name in dropped]
        return FeatureSchema(kept, self.target, self.bad_value, self.split_seed, extra)

    def to_json(self) -> str:
        payload = {
            "format": SCHEMA_FORMAT,
            "features": [
                {**asdict(f), "categories": list(f.categories)} for f in self.features
            ],
            "target": self.target,
            "bad_value": self.bad_value,
            "split_seed": self.split_seed,
            "extra": self.extra,
        }
        return json.dumps(payload, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> FeatureSchema:
        try:
            payload = json.loads(text)
            features = tuple(
                FeatureSpec(
                    name=str(f["name"]),
                    kind=str(f["kind"]),
                    mean=float(f.get("mean", 0.0)),
                    std=float(f.get("std", 1.0)),
                    categories=tuple(str(c) for c in f.get("categories", ())),
                    mode=None if f.get("mode") is None else str(f["mode"]),
                    reference=_reference(f.get("reference")),
                )
                for f in payload["features"]
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                "The feature schema embedded in the model file is unreadable.",
                "Re-export the model with a valid riskprune_schema.json, or remove it and map "
                "the dataset columns by hand.",
            ) from exc
        for f in features:
            if f.kind not in KINDS:
                raise ModelError(
                    f"The embedded schema gives variable '{f.name}' an unknown kind '{f.kind}'.",
                    "Use 'numeric', 'categorical' or 'code'.",
                )
            if f.kind in ("categorical", "code") and not f.categories:
                raise ModelError(
                    f"The embedded schema gives categorical variable '{f.name}' no categories.",
                    "Re-export the model with the categories it was trained on.",
                )
            if f.kind == "numeric" and not (np.isfinite(f.std) and f.std > 0):
                raise ModelError(
                    f"The embedded schema gives variable '{f.name}' a non-positive scale.",
                    "Re-export the model with the training standard deviation of each variable.",
                )
        return cls(
            features=features,
            target=payload.get("target"),
            bad_value=None if payload.get("bad_value") is None else str(payload["bad_value"]),
            split_seed=payload.get("split_seed"),
            extra=dict(payload.get("extra") or {}),
        )

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        columns: list[str],
        target: str | None = None,
        bad_value: str | None = None,
        split_seed: int | None = None,
        categorical: str = "categorical",
        codes: list[str] | tuple[str, ...] = (),
    ) -> FeatureSchema:
        """Learn encodings from training rows and record each variable's reference value.

        Object/category/bool columns become ``categorical`` (one-hot) or, with
        ``categorical="code"``, ``code`` (one integer input, for embedding models); numeric
        columns named in ``codes`` (integer codes already) become ``code`` too. References: the
        training mean of a numeric, the most frequent category of a categorical (ties: the first
        in sorted order).
        """
        if categorical not in ("categorical", "code"):
            raise DataError(f"Unknown categorical encoding '{categorical}'.", "Use 'categorical' (one-hot) or 'code'.")
        specs = []
        for col in columns:
            s = frame[col]
            numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            if numeric and col not in codes:
                std = float(s.std(ddof=0))
                mean = float(s.mean())
                specs.append(FeatureSpec(col, "numeric", mean, std if std > 0 else 1.0, reference=mean))
            else:
                text = s.dropna()
                if numeric and not np.all(np.mod(text.to_numpy(dtype="float64"), 1) == 0):
                    raise DataError(f"Column '{col}' is to hold integer codes but has fractional values.",
                                    "Treat it as numeric, or recode it as whole numbers 0, 1, 2, …")
                text = text.map(lambda v: str(int(v)) if isinstance(v, float) and float(v).is_integer() else str(v)) \
                    if numeric else text.astype(str)
                if numeric:  # integer codes already: category k sits at position k, so the model sees the same code
                    values = {int(float(v)) for v in text}
                    if values and min(values) < 0:
                        raise DataError(f"Column '{col}' holds negative codes.", "Codes must be whole numbers 0, 1, 2, …")
                    cats = tuple(str(c) for c in range(max(values) + 1)) if values else ()
                else:
                    cats = tuple(sorted(text.unique()))
                counts = text.value_counts()
                top = max(cats, key=lambda c: (int(counts.get(c, 0)), -cats.index(c))) if cats else None
                kind = "code" if (numeric or categorical == "code") else "categorical"
                specs.append(FeatureSpec(col, kind, categories=cats, mode=top, reference=top))
        return cls(tuple(specs), target, bad_value, split_seed)

    def check_columns(self, columns) -> None:
        """Refuse a dataset without every raw column the model needs, naming all of them."""
        present = set(columns)
        missing = [c for c in self.raw_columns if c not in present]
        if missing:
            raise DataError(
                f"The dataset lacks {len(missing)} column(s) the model needs: {', '.join(repr(c) for c in missing)}.",
                f"Upload the dataset with the model's original column names; the model reads {len(self.raw_columns)} "
                f"columns: {', '.join(self.raw_columns)}.",
            )

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Raw columns -> float32 input matrix; refuses what the model never saw, and missing values, with a reason.

        ``prepare_dataset`` is the path that offers a choice for missing values; this strict form
        is for callers that have already cleaned their rows (e.g. training scripts).
        """
        self.check_columns(frame.columns)
        X = np.empty((len(frame), len(self.input_names)), dtype=np.float32)
        j = 0
        for f in self.features:
            col = frame[f.name]
            if f.kind == "numeric":
                arr = f.numeric_values(col)
                n_bad = int((~np.isfinite(arr)).sum())
                if n_bad:
                    raise DataError(
                        f"Column '{f.name}' has {n_bad} missing or infinite value(s).",
                        "Impute or remove those rows before uploading; the model cannot score "
                        "them.",
                    )
                X[:, j] = (arr - f.mean) / f.std
            else:
                codes = f.category_codes(col)
                n_bad = int((codes < 0).sum())
                if n_bad:
                    raise DataError(
                        f"Column '{f.name}' has {n_bad} missing value(s).",
                        "Fill them with one of the categories the model knows or remove the rows.",
                    )
                if f.kind == "code":
                    X[:, j] = codes
                else:
                    X[:, j:j + f.width] = 0.0
                    X[np.arange(len(frame)), j + codes] = 1.0
            j += f.width
        return X


def _reference(value: Any) -> float | str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return str(value)
