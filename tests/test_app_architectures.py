"""Models that are not a plain chain, uploaded as a user would: every page works, and the Prune page
shows what each block offers (through the real page scripts, AppTest)."""
from __future__ import annotations

import pytest
from apptest_support import assert_clean, go, metric, open_app, upload
from architectures import COLUMNS, TARGET, loan_book, scripted_bytes, train

pytestmark = [pytest.mark.app, pytest.mark.slow]

PAGES = ("overview", "prune", "tradeoffs", "explain", "decisions", "governance", "acceptance", "report")


def _widget(items, label: str):
    found = [w for w in items if w.label.startswith(label)]
    assert found, f"no widget '{label}' among {[w.label for w in items]}"
    return found[0]


@pytest.mark.parametrize("name", ["embedding_mlp"])
def test_a_non_chain_upload_walks_every_page_and_prunes_by_block(name):
    book = loan_book(n_rows=900, seed=3)
    model = train(name, book)
    csv = book[[*COLUMNS[:5], TARGET, *COLUMNS[5:]]].to_csv(index=False).encode()  # target not last
    at = open_app("data_model", timeout=600)
    upload(at, "model_upload", f"{name}.pt", scripted_bytes(model))
    upload(at, "data_upload", "loans.csv", csv, "text/csv")
    assert_clean(at)
    assert _widget(at.selectbox, "Target column").value == TARGET
    inputs = _widget(at.multiselect, "Dataset columns fed")
    if list(inputs.value) != COLUMNS:  # schema-less: the columns in the model's order
        inputs.set_value(COLUMNS).run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert metric(at, "Model inputs") == str(len(COLUMNS))
    for page in PAGES:
        go(at, page)
        assert_clean(at)
        assert not at.error, (page, [e.value for e in at.error])
    # structured pruning of this architecture's own units, shown per block and honestly labelled
    at.session_state["method"] = "neuron_l1"
    go(at, "prune")
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    text = " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info, *at.warning])
    assert "COMPACTED" in text.upper() or "MASKED" in text.upper()
    table = [d.value for d in at.dataframe if "weight matrix" in d.value.columns]
    assert table and table[0]["block"].nunique() >= 2, "the layer table names the blocks"
    offers = [d.value for d in at.dataframe if "compaction" in d.value.columns]
    assert offers and {"compacted", "masked"} & set(offers[0]["compaction"])
    # a weight method may keep the embedding tables dense: they are then untouched
    at.session_state["method"] = "magnitude_layer"
    go(at, "prune")
    kinds = _widget(at.multiselect, "Weight matrices this method may prune")
    assert set(kinds.value) == {"linear", "embedding"}
    kinds.set_value(["linear"]).run()
    assert_clean(at)
    layers = [d.value for d in at.dataframe if "weight matrix" in d.value.columns][0]
    embeddings = layers[layers["kind"] == "Embedding"]
    assert len(embeddings) and (embeddings["non-zero"] == embeddings["weights"]).all()
    assert (layers.loc[layers["kind"] == "Linear", "sparsity"] > 0.3).all()
