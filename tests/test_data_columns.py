"""Headers, identifier columns, text columns and target values as real exports deliver them.

Files are built by the tests as bytes (BOM, padded and repeated headers, an ``ID`` counter, Y/N
targets …) and read through ``read_table`` exactly as an upload is.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.data import (
    clean_name,
    default_inputs,
    identifier_columns,
    normalise_header,
    prepare_dataset,
    read_table,
    resolve_column,
    target_summary,
    target_values,
)
from core.errors import DataError
from core.model import load_model, model_to_bytes
from core.workspace import bind

# --------------------------------------------------------------------------- headers


def test_bom_padded_and_empty_header_cells_are_normalised_and_reported():
    data = "\ufeff ID ,limit_bal,,default \n1,20000,7,1\n2,120000,8,0\n".encode()
    table = read_table(data, "taiwan.csv")
    assert list(table.frame.columns) == ["ID", "limit_bal", "Unnamed: 2", "default"]
    why = {c.name: c.why for c in table.header_changes}
    assert why == {"ID": "spaces", "Unnamed: 2": "empty", "default": "spaces"}
    assert any("no name" in n for n in table.notes) and any("surrounding spaces" in n for n in table.notes)


def _repeated(kind: str) -> bytes:
    frame = pd.DataFrame([[30, 1000, 31, 0], [40, 2000, 41, 1]], columns=["age", "income", "age ", "default"])
    if kind == "csv":
        return frame.to_csv(index=False).encode()
    buf = io.BytesIO()
    if kind == "parquet":
        frame.to_parquet(buf, index=False)
    else:
        frame.to_excel(buf, index=False)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx"])
def test_repeated_names_are_made_unique_and_reported_in_csv_parquet_and_excel(kind):
    table = read_table(_repeated(kind), f"d.{kind}")
    assert list(table.frame.columns) == ["age", "income", "age.1", "default"]
    assert table.frame["age.1"].tolist() == [31, 41]  # the later column keeps its own values
    assert [c.why for c in table.header_changes] == ["duplicate"]
    assert "'age' (column 3) → 'age.1'" in " ".join(table.notes)


def test_normalise_header_never_collides_with_an_existing_name():
    names, changes = normalise_header(["a", "a.1", "a", " a"])
    assert names == ["a", "a.1", "a.2", "a.3"] and len(set(names)) == 4
    assert [c.position for c in changes] == [2, 3]


def test_names_given_by_the_user_get_the_same_normalisation_as_the_header():
    frame = read_table(b"income ,default \n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(12)), "d.csv").frame
    ds = prepare_dataset(frame, "default ", "1", feature_columns=[" income"])
    assert ds.target == "default" and ds.input_names == ("income",)
    assert clean_name("\ufeff\u00a0default\u200b ") == "default"
    assert target_values(frame, "\ufeffdefault") == ["0", "1"]


def test_an_unknown_name_lists_the_closest_matches_and_every_column_not_just_twenty():
    cols = [f"pay_amt{i}" for i in range(1, 31)] + ["Default"]
    with pytest.raises(DataError) as info:
        resolve_column(cols, "default", "target column")
    assert info.value.message == "The data has no target column 'default'."
    assert "Closest: Default." in info.value.hint
    assert "All 31 columns:" in info.value.hint and "pay_amt30" in info.value.hint


def test_a_very_wide_file_gets_the_closest_matches_and_the_count_instead_of_a_wall_of_names():
    cols = [f"x{i}" for i in range(500)]
    with pytest.raises(DataError) as info:
        resolve_column(cols, "x4999", "column")
    assert "The file has 500 columns" in info.value.hint and "Closest:" in info.value.hint
    assert "x250," not in info.value.hint


# --------------------------------------------------------------------------- identifiers


def _taiwan_like(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Shaped like the Taiwan default file: an ID counter, 23 numeric inputs, the default flag."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"ID": np.arange(1, n + 1)})
    for i in range(23):
        frame[f"x{i + 1}"] = rng.normal(size=n).round(3)
    frame["default payment next month"] = np.tile([0, 1, 0], n // 3)
    return frame


def test_id_counter_is_skipped_by_the_default_mapping_so_a_23_input_model_meets_23_columns():
    frame = read_table(_taiwan_like().to_csv(index=False).encode(), "taiwan.csv").frame
    target = "default payment next month"
    assert default_inputs(frame, target) == [f"x{i}" for i in range(1, 24)]
    torch.manual_seed(0)
    model = load_model(model_to_bytes(nn.Sequential(nn.Linear(23, 8), nn.ReLU(), nn.Linear(8, 1)).eval()))
    ws = bind(model, frame, target, "1")  # no feature list: the default mapping, as the CLI uses it
    assert ws.data.input_names[0] == "x1" and len(ws.data.input_names) == 23
    assert any("'ID'" in n and "identifier" in n for n in ws.data.notes)


@pytest.mark.parametrize(
    "column, values, flagged",
    [
        ("ID", np.arange(1, 21), True),
        ("customer_id", np.random.default_rng(1).permutation(np.arange(1000, 1020)), True),
        ("CustomerID", np.arange(20)[::-1] * 7 + 3, True),
        ("SK_ID_CURR", np.random.default_rng(2).permutation(20) + 100_000, True),
        ("Unnamed: 0", np.arange(20), True),  # an exported pandas index
        ("seq", np.arange(20) * 5, True),  # unnamed but a strictly monotone run of whole numbers
        ("customer_id", np.repeat(np.arange(10), 2), False),  # repeats: not unique per row
        ("income", np.random.default_rng(3).permutation(20) * 1000 + 17, False),  # unique, not monotone, not named
        ("rate", np.linspace(0.1, 2.0, 20), False),  # monotone but not whole numbers
        ("paid_amount", np.arange(20), True),  # monotone whole numbers: a counter whatever its name
    ],
)
def test_identifier_detection(column, values, flagged):
    frame = pd.DataFrame({column: values, "default": [0, 1] * 10})
    assert bool(identifier_columns(frame, exclude="default")) is flagged


def test_text_identifiers_are_flagged_too():
    frame = pd.DataFrame({"contract_no": [f"C{i:04d}" for i in range(20)], "default": [0, 1] * 10})
    (flag,) = identifier_columns(frame, exclude="default")
    assert flag.column == "contract_no" and "different value in every row" in flag.reason


def test_a_selected_identifier_is_fed_as_asked_but_flagged():
    frame = _taiwan_like()
    ds = prepare_dataset(frame, "default payment next month", "1", feature_columns=["ID", "x1"])
    assert ds.input_names == ("ID", "x1")
    assert any("'ID' is fed to the model but looks like an identifier" in n for n in ds.notes)


# --------------------------------------------------------------------------- text columns


def _with_text(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "income": rng.normal(3000, 500, n).round(2),
        "home": rng.choice(["own", "rent"], n),
        "purpose": rng.choice(["car", "tv"], n),
        "default": np.tile([0, 1, 0], n // 3),
    })


def test_schema_less_default_mapping_says_which_text_columns_are_left_out_and_why():
    ds = prepare_dataset(_with_text(), "default", "1")
    assert ds.input_names == ("income",)
    (note,) = [n for n in ds.notes if "Text column" in n]
    assert "'home', 'purpose'" in note and "no feature schema" in note and "Export the model with its schema" in note


def test_selecting_a_text_column_without_a_schema_is_refused_with_an_example_value():
    with pytest.raises(DataError, match=r"'home' hold text \(e\.g\. '(own|rent)'\)") as info:
        prepare_dataset(_with_text(), "default", "1", feature_columns=["income", "home"])
    assert "feature schema" in info.value.hint


# --------------------------------------------------------------------------- target values


@pytest.mark.parametrize(
    "cells, expected, bad",
    [
        (["Y", "N", "N", "N"], {"N": 15, "Y": 5}, "Y"),
        (["yes", "no", "no", "no"], {"no": 15, "yes": 5}, "yes"),
        (["TRUE", "FALSE", "FALSE", "FALSE"], {"False": 15, "True": 5}, "True"),
        (["1", "0", "0", "0"], {"0": 15, "1": 5}, "1"),
        (["default", "non-default", "non-default", "non-default"], {"default": 5, "non-default": 15}, "default"),
        (['"1.0"', '" 0 "', '"0"', '"0.0"'], {"0": 15, "1": 5}, "1"),  # numbers stored as text, in quotes
    ],
    ids=["Y/N", "yes/no", "TRUE/FALSE", "1/0", "default/non-default", "numbers as text"],
)
def test_target_values_are_offered_with_counts_and_a_suggested_bad_value(cells, expected, bad):
    text = "income,target\n" + "".join(f"{i},{cells[i % 4]}\n" for i in range(20))
    frame = read_table(text.encode(), "t.csv").frame
    summary = target_summary(frame, "target")
    assert {v.value: v.count for v in summary.values} == expected
    assert summary.suggested_bad == bad and summary.is_binary and summary.problem is None
    ds = prepare_dataset(frame, "target", bad, feature_columns=["income"])
    assert int(ds.y.sum()) == 5
    table = summary.to_frame()
    assert table["rows"].sum() == 20 and table.loc[table["suggested bad"], "value"].item() == bad


def test_numbers_stored_as_text_and_as_numbers_are_one_outcome():
    frame = pd.DataFrame({"t": pd.Series(["1.0", " 0 ", "0", 1, 0.0, "1"], dtype=object)})
    assert {v.value: v.count for v in target_summary(frame, "t").values} == {"0": 3, "1": 3}


def test_a_target_with_one_outcome_is_refused_clearly():
    frame = pd.DataFrame({"x": range(20), "t": ["good"] * 20})
    assert "only one outcome ('good')" in target_summary(frame, "t").problem
    with pytest.raises(DataError, match="holds only one outcome"):
        prepare_dataset(frame, "t", "good", feature_columns=["x"])


def test_a_target_with_more_than_two_outcomes_is_refused_or_read_as_one_value_vs_the_rest():
    grades = ["A", "B", "C", "D"] * 5
    frame = pd.DataFrame({"x": range(20), "grade": grades})
    summary = target_summary(frame, "grade")
    assert "4 outcomes ('A' (5), 'B' (5), 'C' (5), 'D' (5))" in summary.problem
    with pytest.raises(DataError, match="exactly two outcomes, but has 4") as info:
        prepare_dataset(frame, "grade", "D", feature_columns=["x"])
    assert "count every other value as good" in info.value.hint
    ds = prepare_dataset(frame, "grade", "D", feature_columns=["x"], one_vs_rest=True)
    np.testing.assert_array_equal(ds.y, [int(g == "D") for g in grades])
    assert ds.one_vs_rest and ds.target_rule == "'grade' = 'D' is bad, every other value is good"


def test_target_counts_of_a_million_rows_match_pandas_value_counts():
    rng = np.random.default_rng(0)
    col = pd.Series(rng.choice(["Y", "N"], 1_000_000, p=[0.2, 0.8]))
    summary = target_summary(pd.DataFrame({"t": col}), "t")
    assert {v.value: v.count for v in summary.values} == col.value_counts().to_dict()
