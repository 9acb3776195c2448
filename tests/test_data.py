"""Dataset loading: formats, encodings, separators, targets and schema application."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from core.data import FeatureSchema, encode_target, prepare_dataset, read_table, stratified_split
from core.errors import DataError


def _frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "income": rng.normal(3000, 800, n).round(2),
        "age": rng.integers(18, 80, n),
        "home": rng.choice(["own", "rent", "mortgage"], n),
        "default": rng.choice([0, 1], n, p=[0.7, 0.3]),
    })


def test_csv_parquet_and_excel_give_the_same_frame():
    df = _frame()
    csv = df.to_csv(index=False).encode()
    pq = io.BytesIO()
    df.to_parquet(pq, index=False)
    xl = io.BytesIO()
    df.to_excel(xl, index=False)
    for data, name in ((csv, "d.csv"), (pq.getvalue(), "d.parquet"), (xl.getvalue(), "d.xlsx")):
        got = read_table(data, name).frame
        pd.testing.assert_frame_equal(got.reset_index(drop=True), df, check_dtype=False)


def test_duplicate_columns_are_renamed_and_reported():
    table = read_table(b"age,income,age\n1,2,3\n", "d.csv")
    assert list(table.frame.columns) == ["age", "income", "age.1"]
    assert any("'age' (column 3) → 'age.1'" in n for n in table.notes)


def test_a_frame_with_repeated_names_is_refused_by_prepare_dataset():
    frame = pd.DataFrame([[1, 2, 0]] * 12, columns=["age", "age", "default"])
    frame.loc[::2, "default"] = 1
    with pytest.raises(DataError, match=r"'age' \(2×\)"):
        prepare_dataset(frame, "default", "1")


def test_parquet_nested_columns_are_refused():
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2], "hist": [[1, 2], [3]]}), buf)
    with pytest.raises(DataError, match="nested"):
        read_table(buf.getvalue(), "n.parquet")


def test_target_with_three_classes_is_refused():
    with pytest.raises(DataError, match="exactly two outcomes, but has 3"):
        encode_target(pd.DataFrame({"t": ["a", "b", "c"]}), "t", "a")


def test_schema_one_hot_and_scaling():
    df = _frame()
    schema = FeatureSchema.fit(df, ["income", "home"])
    X = schema.transform(df)
    assert schema.input_names == ["income", "home=mortgage", "home=own", "home=rent"]
    assert schema.groups == ["income", "home", "home", "home"]
    np.testing.assert_allclose(X[:, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(X[:, 1:].sum(axis=1), 1)


def test_schema_transform_ignores_column_order_and_extra_columns():
    df = _frame()
    schema = FeatureSchema.fit(df, ["income", "home"])
    shuffled = df[["default", "home", "age", "income"]]
    np.testing.assert_array_equal(schema.transform(shuffled), schema.transform(df))


def test_prepare_without_schema_uses_numeric_columns_in_order_and_never_mutates():
    df = _frame()
    before = df.copy()
    ds = prepare_dataset(df, "default", "1")
    assert ds.input_names == ("income", "age")
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(DataError, match="expects 3 inputs but the dataset provides 2"):
        prepare_dataset(df, "default", "1", n_inputs=3)


def test_stratified_split_is_seeded_and_disjoint():
    y = np.array([0] * 70 + [1] * 30)
    a, b = stratified_split(y, 5), stratified_split(y, 5)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert len(set(a["train"]) & set(a["test"])) == 0
    assert sum(len(v) for v in a.values()) == 100
    assert y[a["test"]].mean() == pytest.approx(0.3)
