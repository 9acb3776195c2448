"""The data profile: per column type, missing share (±inf counted), distinct values and range; flags; class balance.

Every number is checked against pandas computing the same quantity on the same column.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import FeatureSchema, data_profile, read_table
from core.errors import DataError


def _file() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 50
    frame = pd.DataFrame({
        "ID": np.arange(1, n + 1),
        "income": rng.normal(3000, 800, n).round(2),
        "children": rng.integers(0, 4, n),
        "home": rng.choice(["own", "rent", "mortgage"], n),
        "country": ["DE"] * n,
        "active": rng.choice([True, False], n),
        "note": [np.nan] * n,
        "default": np.where(np.arange(n) % 5 == 0, "Y", "N"),
    })
    frame["income"] = frame["income"].astype(object)
    frame.loc[[2, 7], "income"] = ""
    frame.loc[11, "income"] = "inf"
    return read_table(frame.to_csv(index=False).encode(), "book.csv").frame


def test_profile_matches_pandas_column_by_column():
    frame = _file()
    profile = data_profile(frame, target="default")
    income = profile.column("income")
    values = frame["income"].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    assert (income.kind, income.n_missing, income.n_infinite) == ("number", 3, 1)
    assert income.missing_share == pytest.approx(3 / 50)
    assert income.n_distinct == pd.Series(finite).nunique()
    assert (income.minimum, income.maximum) == (finite.min(), finite.max())
    children = profile.column("children")
    assert children.kind == "whole number" and children.n_distinct == frame["children"].nunique()
    assert (children.minimum, children.maximum) == (frame["children"].min(), frame["children"].max())
    assert profile.column("home").kind == "text" and profile.column("home").n_distinct == frame["home"].nunique()
    assert profile.column("active").kind == "flag"


def test_profile_flags_identifiers_constants_empty_columns_and_the_target():
    profile = data_profile(_file(), target="default")
    flags = {c.name: c.flags for c in profile.columns}
    assert flags["ID"][0].startswith("identifier:")
    assert flags["country"] == ("constant: one value in every row",)
    assert flags["note"] == ("empty: no value in any row",)
    assert flags["default"] == ("target",)
    assert [f.column for f in profile.identifiers] == ["ID"]
    assert profile.text_columns == ("home", "country")
    assert "'home', 'country'" in profile.text_note


def test_profile_reports_the_class_balance_of_the_target():
    frame = _file()
    profile = data_profile(frame, target=" default ")
    assert {v.value: v.count for v in profile.target.values} == frame["default"].value_counts().to_dict()
    assert profile.target.suggested_bad == "Y"


def test_profile_marks_the_schemas_variables():
    frame = _file()
    schema = FeatureSchema.fit(frame.dropna(subset=["income"]), ["children", "home"])
    flags = {c.name: c.flags for c in data_profile(frame, schema=schema).columns}
    assert flags["children"] == ("model variable (numeric)",) and flags["home"] == ("model variable (categorical)",)


def test_profile_table_has_one_row_per_column():
    frame = _file()
    table = data_profile(frame).to_frame()
    assert table["column"].tolist() == list(frame.columns)
    assert list(table.columns) == ["column", "type", "missing", "missing share", "distinct", "min", "max", "flags"]


def test_profile_refuses_what_is_not_a_table_and_unknown_names():
    with pytest.raises(DataError):
        data_profile([1, 2, 3])
    with pytest.raises(DataError, match="no column 'nope'"):
        data_profile(_file()).column("nope")
