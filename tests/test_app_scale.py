"""A large book in the dashboard: pages compute on a labelled stratified sample, and the headline figures
on every evaluation row are shown beside the sample's (AppTest on a generated 150,000-row file)."""
from __future__ import annotations

import pytest
from apptest_support import assert_clean, go, open_app, upload
from builders import TARGET, csv_bytes, model_bytes, model_columns, synthetic_book, trained_mlp

from core.workspace import automatic_rows

pytestmark = [pytest.mark.app, pytest.mark.slow]

N_ROWS = 150_000


def _widget(items, label: str):
    found = [w for w in items if w.label.startswith(label)]
    assert found, f"no widget '{label}' among {[w.label for w in items]}"
    return found[0]


def _all_rows_table(at):
    tables = [d.value for d in at.dataframe if "original · all rows" in d.value.columns]
    assert tables, "no sample-vs-all-rows table on the page"
    return tables[0].set_index("figure")


def test_a_large_book_is_sampled_on_every_page_and_its_all_rows_figures_stand_beside():
    book = synthetic_book(N_ROWS, seed=4)
    net = trained_mlp(book.iloc[:3000], epochs=20)
    at = open_app("data_model", timeout=600)
    upload(at, "model_upload", "big.pt", model_bytes(net))
    upload(at, "data_upload", "book.csv", csv_bytes(book), "text/csv")
    _widget(at.multiselect, "Dataset columns fed").set_value(model_columns()).run()
    _widget(at.radio, "Which rows evaluate").set_value("all").run()
    assert_clean(at)
    assert _widget(at.selectbox, "Target column").value == TARGET
    auto = automatic_rows(sum(p.numel() for p in net.parameters()))
    assert _widget(at.number_input, "Rows in the sample").value == auto
    label = f"a stratified sample of {auto:,} of the {N_ROWS:,} evaluation rows"
    for page in ("overview", "explain", "governance"):
        go(at, page)
        assert_clean(at)
        assert any(label in c.value for c in at.caption), page
    for page in ("prune", "decisions"):
        go(at, page)
        assert_clean(at)
        table = _all_rows_table(at)
        assert {"AUC", "KS", "Approval rate", "Decisions flipped (share)"} <= set(table.index), page
        assert any(f"All rows: all {N_ROWS:,} evaluation rows" in c.value for c in at.caption), page
    # a smaller sample: every page says so, and the all-rows column does not move
    before = _all_rows_table(at).loc["AUC", "original · all rows"]
    go(at, "data_model")
    _widget(at.number_input, "Rows in the sample").set_value(20_000).run()
    go(at, "decisions")
    assert_clean(at)
    assert any(f"a stratified sample of 20,000 of the {N_ROWS:,} evaluation rows" in c.value for c in at.caption)
    assert _all_rows_table(at).loc["AUC", "original · all rows"] == before
    # the committee report is built on every evaluation row, not on the pages' sample, and says so before it is built
    go(at, "report")
    assert_clean(at)
    assert any(f"The report is computed on all {N_ROWS:,} rows" in c.value for c in at.caption)
