"""Feature schema: how raw dataset columns become model inputs.

A model can carry its schema inside the TorchScript file (``_extra_files``), so a user uploads the
raw CSV the bank already has and RiskPrune applies the same one-hot encoding and scaling the model
was trained with. The schema also maps each model input back to its original variable, which is
what lets attributions be grouped by variable (a committee talks about "savings", not about
"savings=< 100 DM").
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


@dataclass(frozen=True)
class FeatureSpec:
    """One raw variable: numeric (standardised with mean/std) or categorical (one-hot).

    ``mode`` is the most frequent training category of a categorical variable (None when the
    schema predates it); imputation uses it, as it uses ``mean`` for a numeric one.
    """

    name: str
    kind: str  # "numeric" | "categorical"
    mean: float = 0.0
    std: float = 1.0
    categories: tuple[str, ...] = ()
    mode: str | None = None

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
        """Positions in ``categories`` (int32), -1 where the value is missing; unseen categories are refused by name."""
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
            if f.kind not in ("numeric", "categorical"):
                raise ModelError(
                    f"The embedded schema gives variable '{f.name}' an unknown kind '{f.kind}'.",
                    "Use 'numeric' or 'categorical'.",
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
    ) -> FeatureSchema:
        """Learn encodings from training rows: object/category/bool columns become one-hot."""
        specs = []
        for col in columns:
            s = frame[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                std = float(s.std(ddof=0))
                specs.append(FeatureSpec(col, "numeric", float(s.mean()), std if std > 0 else 1.0))
            else:
                text = s.dropna().astype(str)
                cats = tuple(sorted(text.unique()))
                counts = text.value_counts()
                mode = str(min(counts.index[counts == counts.max()])) if len(counts) else None  # ties: first in sort order
                specs.append(FeatureSpec(col, "categorical", categories=cats, mode=mode))
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
                X[:, j:j + f.width] = 0.0
                X[np.arange(len(frame)), j + codes] = 1.0
            j += f.width
        return X
