"""The column-wise reader: same frame as pandas' own parser (the reference), progress, precision, scale.

``pd.read_csv`` is the reference implementation: the fast pyarrow path must give the frame
pandas gives for the same text (types, missing markers, booleans, dates kept as text), and
what pyarrow cannot parse falls back to pandas itself.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import prepare_dataset, read_table
from core.data import reading as reading_module
from core.errors import DataError, RiskPruneError

ROOT = Path(__file__).resolve().parents[1]

MIXED = ('id,income,rate,home,flag,opened,empty,note,default\n'
         '1,1200,0.5,own,True,2020-01-31,,"a, quoted",Y\n'
         '2,NA,1.25,rent,False,2021-02-01,,plain,N\n'
         '3,3400,inf,,True,2019-12-01,,"",Y\n'
         '4,5600,-inf,NULL,False,2018-05-05,,None,N\n'
         '5, 7800 ,2.5e-3,mortgage,,2017-07-07,,n/a,N\n')


def test_fast_reader_gives_the_frame_pandas_gives_on_mixed_columns():
    got = read_table(MIXED.encode(), "mixed.csv").frame
    pd.testing.assert_frame_equal(got, pd.read_csv(io.StringIO(MIXED)))
    assert got["opened"].tolist()[0] == "2020-01-31"  # dates stay text, as pandas reads them
    assert got["empty"].dtype == np.float64  # an all-empty column is numbers with every value missing


_CELL = st.one_of(
    st.just(""), st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda f: repr(float(f))),
    st.sampled_from(["True", "false", "NA", "x", "y z", "1e5", "-0", "007", " 12 ", '"q,1"', "2020-01-01", "null"]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 4).flatmap(lambda k: st.lists(st.lists(_CELL, min_size=k, max_size=k), min_size=1, max_size=8)))
def test_random_tables_read_like_pandas(rows):
    k = len(rows[0])
    text = ",".join(f"c{i}" for i in range(k)) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    try:
        got = read_table(text.encode(), "d.csv").frame
    except RiskPruneError:
        return
    pd.testing.assert_frame_equal(got, pd.read_csv(io.StringIO(text)), check_dtype=False)


@pytest.mark.parametrize(
    "text",
    ["a,b,c\n1,2\n3,4,5\n", 'a,note,c\n1,"two\nlines",3\n4,x,6\n'],
    ids=["row with fewer cells", "line break inside quotes"],
)
def test_what_the_fast_reader_refuses_is_read_by_pandas_as_before(text):
    pd.testing.assert_frame_equal(read_table(text.encode(), "d.csv").frame, pd.read_csv(io.StringIO(text)))


def test_numbers_keep_file_precision_so_large_identifiers_stay_distinct():
    ids = np.arange(16_777_216, 16_777_216 + 20)  # above 2**24: float32 would merge neighbours
    text = "contract_id,x,default\n" + "".join(f"{i},{k * 0.1:.1f},{k % 2}\n" for k, i in enumerate(ids))
    frame = read_table(text.encode(), "d.csv").frame
    assert frame["contract_id"].dtype == np.int64 and frame["contract_id"].is_unique
    ds = prepare_dataset(frame, "default", "1")
    assert ds.input_names == ("x",)  # the identifier is recognised and skipped
    assert ds.X.dtype == np.float32


def test_progress_is_reported_while_a_large_csv_is_parsed(monkeypatch):
    monkeypatch.setattr(reading_module, "PROGRESS_MIN_BYTES", 0)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60_000, 5)).round(4), columns=list("abcde")).assign(default=np.tile([0, 1], 30_000))
    data = frame.to_csv(index=False).encode()
    calls = []
    table = read_table(data, "big.csv", progress=lambda done, total, what: calls.append((done, total, what)))
    counted = [c for c in calls if c[1]]
    assert counted and counted[-1][0] == counted[-1][1] == int(np.ceil(len(data) / 2**20))
    assert [c[0] for c in counted] == sorted(c[0] for c in counted)
    assert calls[-1] == (0, 0, "converting the columns of big.csv")
    pd.testing.assert_frame_equal(table.frame, frame)


def test_progress_counts_parquet_row_groups():
    frame = pd.DataFrame({"a": np.arange(1000.0), "default": np.tile([0, 1], 500)})
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, row_group_size=250)
    calls = []
    table = read_table(buf.getvalue(), "d.parquet", progress=lambda d, t, w: calls.append((d, t)))
    assert calls[:4] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    pd.testing.assert_frame_equal(table.frame, frame)


@pytest.mark.slow
def test_a_million_applicants_read_and_prepared_within_one_gigabyte():
    """1,000,000 × 24 as CSV and Parquet, each measured in a fresh interpreter (benchmarks/bench_data.py)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_data.py"), "--repeats", "1"],
                         capture_output=True, text=True, check=True, timeout=1800)
    result = dict(re.findall(r"(\w+)=([\d.]+)", out.stdout.strip().splitlines()[-1]))
    assert float(result["csv_peak_mb"]) <= 1024 and float(result["parquet_peak_mb"]) <= 1024, out.stdout


def test_a_row_with_more_cells_than_the_header_is_refused_not_shifted():
    with pytest.raises(DataError, match="could not be parsed") as info:
        read_table(b"a,b\n1,2,3\n4,5,6\n", "d.csv")
    assert "same number of separators" in info.value.hint
