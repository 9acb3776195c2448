"""The first minutes with your own files: expected loss works without a usable amount column, and a slow
explanation waits for a click."""
from __future__ import annotations

import pytest
from apptest_support import assert_clean, go, open_app, upload
from builders import TARGET, csv_bytes, model_bytes, model_columns, synthetic_book, trained_mlp

pytestmark = [pytest.mark.app, pytest.mark.slow]


# --------------------------------------------------------------------------- expected loss without a usable amount


@pytest.fixture(scope="module")
def standardised_book():
    """The synthetic book with its loan amount standardised for the model (mean 0, sd 1): negative 'amounts'."""
    book = synthetic_book()
    amount = book["loan_amount"]
    return book.assign(loan_amount=(amount - amount.mean()) / amount.std())


def test_decision_impact_opens_without_an_error_on_a_standardised_amount_column(standardised_book):
    at = open_app("data_model")
    upload(at, "model_upload", "my_model.pt", model_bytes(trained_mlp(standardised_book)))
    upload(at, "data_upload", "standardised.csv", csv_bytes(standardised_book), "text/csv")
    [target] = [w for w in at.selectbox if w.label.startswith("Target column")]
    target.set_value(TARGET).run()
    [inputs] = [w for w in at.multiselect if w.label.startswith("Dataset columns fed")]
    inputs.set_value(model_columns()).run()
    assert_clean(at)
    go(at, "decisions")
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    exposure = at.selectbox(key="exposure_column")
    assert exposure.value == "1 unit per applicant"  # the negative column is not preselected
    assert any("one unit" in c.value for c in at.caption)
    assert "Approved exposure and loss" in _chart_titles(at)

    exposure.set_value("loan_amount").run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert any("'loan_amount' has negative values" in i.value and "1 unit per applicant" in i.value for i in at.info)
    assert "Approved exposure and loss" not in _chart_titles(at)  # no loss summed over negative "amounts"


def _chart_titles(at) -> list[str]:
    import json

    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


# --------------------------------------------------------------------------- no silent waits


def test_a_slow_explanation_waits_for_a_click_and_then_draws(standardised_book):
    """A residual network is explained by shap's sampled fallback (minutes on a real book): the Explain page says so
    and computes only when asked; nothing of another setting is drawn meanwhile."""
    import io

    import torch
    from test_explain import Residual

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Residual(m=len(model_columns())).eval()), buffer)
    at = open_app("data_model")
    upload(at, "model_upload", "residual.pt", buffer.getvalue())
    upload(at, "data_upload", "book.csv", csv_bytes(synthetic_book()), "text/csv")
    [target] = [w for w in at.selectbox if w.label.startswith("Target column")]
    target.set_value(TARGET).run()
    [inputs] = [w for w in at.multiselect if w.label.startswith("Dataset columns fed")]
    inputs.set_value(model_columns()).run()
    at.session_state["shap_rows"], at.session_state["shap_background"] = 50, 20
    go(at, "explain")
    assert_clean(at)
    assert any("estimated by sampling" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not [m for m in at.metric if m.label == "Flagged"]
    at.button(key="explain_run").click().run()
    assert_clean(at)
    assert [m for m in at.metric if m.label == "Flagged"] and len(at.get("plotly_chart")) >= 3
    assert any("sampled approximation" in c.value for c in at.caption)
