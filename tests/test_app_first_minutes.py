"""The first minutes with your own files: undefined numbers read as words on every page, expected loss works
without a usable amount column, metrics explain themselves, and flagged variables are the ones that matter."""
from __future__ import annotations

import pytest
from apptest_support import assert_clean, go, metric, open_app, undefined_shown, upload
from builders import TARGET, csv_bytes, model_bytes, model_columns, synthetic_book, trained_mlp

pytestmark = [pytest.mark.app, pytest.mark.slow]

PAGES = ("overview", "data_model", "prune", "tradeoffs", "explain", "decisions", "governance", "acceptance", "report")


def _every_page(sidebar: dict, build_report: bool = False):
    """Visit every page with ``sidebar`` set; the places each shows nan / inf / None, and the session."""
    at = open_app(**sidebar)
    found = {}
    for page in PAGES:
        for key, value in sidebar.items():  # AppTest drops the sidebar's state between runs (see apptest_support)
            at.session_state[key] = value
        go(at, page)
        assert_clean(at)
        if page == "report" and build_report:
            for key, value in sidebar.items():
                at.session_state[key] = value
            at.button(key="build_report").click().run()
            assert_clean(at)
            assert at.session_state["report_bundles"], "the report was not built"
        found[page] = undefined_shown(at)
        if page == "decisions":
            found["decisions: bad rate of approved"] = [m.delta for m in at.metric if m.label == "Bad rate of approved"]
    return at, found


def test_nobody_approved_after_heavy_neuron_pruning_is_said_in_words_on_every_page():
    """95 % of the neurons removed and a cutoff that declines everyone the pruned model scores: the bad rate of the
    approved is undefined. Every page, the built report included, says so instead of printing nan."""
    _, found = _every_page({"method": "neuron_l1", "ratio": 0.95, "cutoff_mode": "cutoff", "cutoff_value": 0.001},
                           build_report=True)
    [delta] = found.pop("decisions: bad rate of approved")
    assert "undefined: nobody approved" in delta
    assert found == {page: [] for page in PAGES}


def test_magnitude_pruning_at_95_percent_shows_no_nan_on_any_page():
    _, found = _every_page({"method": "magnitude_layer", "ratio": 0.95})
    found.pop("decisions: bad rate of approved")
    assert found == {page: [] for page in PAGES}


def test_metrics_carry_their_plain_meaning_as_a_tooltip():
    from core.glossary import help_text

    at = open_app("prune", method="neuron_l1", ratio=0.5)
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["AUC"] == help_text("auc") and helps["KS"] == help_text("ks") and helps["Decision flips"] == help_text("flips")
    go(at, "decisions")
    assert help_text("psi") in {m.label: m.proto.help for m in at.metric}["Score PSI"]


def test_layers_are_named_by_type_width_and_position_on_the_prune_page():
    at = open_app("prune", method="neuron_l1", ratio=0.5)
    [mask] = [w for w in at.selectbox if w.key == "mask_layer"]
    assert list(mask.options) == ["Linear 61→64 (#0)", "Linear 64→32 (#4)", "Linear 32→1 (#7)"]
    assert mask.value == "0"  # the key stays the module name


def test_the_explain_page_states_its_flag_rule():
    at = open_app("explain", method="neuron_l1", ratio=0.5)
    assert_clean(at)
    assert any("standard errors of the paired difference" in c.value for c in at.caption)
    flagged = int(metric(at, "Flagged"))
    assert flagged < 20  # the sample has 20 variables; the old rule flagged most of them on real files


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


def test_every_download_on_the_report_page_survives_a_rerun():
    at = open_app("report", method="neuron_l1", ratio=0.5)
    at.session_state["method"], at.session_state["ratio"] = "neuron_l1", 0.5
    at.button(key="build_report").click().run()
    assert_clean(at)
    buttons = list(at.get("download_button"))
    assert any(b.label == "Download everything (.zip)" for b in buttons)
    assert all(b.proto.ignore_rerun for b in buttons), [b.label for b in buttons if not b.proto.ignore_rerun]


# --------------------------------------------------------------------------- one place to fix things


def _links(at) -> list[str]:
    return [link.value for link in at.page_link]


def test_a_message_that_sends_the_user_elsewhere_links_there_and_never_to_its_own_page():
    at = open_app("prune", eval_mode="all")  # every row evaluates: nothing left to fine-tune on
    assert any("Held-out test split" in i.value for i in at.info)
    assert "Fix it on the Data & model page" in _links(at)
    go(at, "data_model")
    assert_clean(at)
    assert not [link for link in _links(at) if "Data & model" in link]


def test_a_setting_that_cannot_be_judged_points_to_the_prune_page_not_back_to_where_the_user_came_from():
    at = open_app("acceptance", method="neuron_l1", ratio=0.5, overrides={"7": 0.5})
    assert_clean(at)
    assert any("cannot be judged" in e.value and "never removed" in e.value for e in at.error)
    assert "Fix it on the Prune page" in _links(at)
    assert not any("page you came from" in i.value for i in at.info)
