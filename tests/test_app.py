"""Every dashboard page through AppTest: widgets set, what is shown asserted, no exception."""
from __future__ import annotations

import json

import pytest
from apptest_support import assert_clean, go, metric, number, open_app, plotly_charts, upload
from builders import TARGET, csv_bytes, model_bytes, model_columns, synthetic_book, trained_mlp

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def book():
    return synthetic_book()


@pytest.fixture(scope="module")
def uploaded_model(book):
    return model_bytes(trained_mlp(book))


def test_app_boots_with_the_sample_and_shows_its_test_auc():
    at = open_app()
    assert metric(at, "Test AUC") == "0.7715"
    assert metric(at, "Parameters") == "6,209"
    assert metric(at, "Rows") == "1,000"
    assert metric(at, "Bad rate") == "30.0%"


def test_prune_page_at_half_ratio_shows_half_sparsity_and_real_deltas():
    at = open_app("prune", ratio=0.5)
    assert metric(at, "Sparsity") == "50%"
    auc_delta = [m for m in at.metric if m.label == "AUC"][0].delta
    assert "vs 0.7715" in auc_delta and abs(number(auc_delta)) < 0.2
    assert number(metric(at, "Non-zeros")) < number(metric(at, "Parameters"))
    assert any("MASKED" in i.value for i in at.info)
    assert len(plotly_charts(at)) >= 2  # layer sparsity and mask heatmap


def test_moving_the_ratio_changes_the_prune_kpis():
    low = open_app("prune", ratio=0.2)
    high = open_app("prune", ratio=0.8)
    assert metric(high, "Sparsity") == "80%"
    assert number(metric(high, "Non-zeros")) < number(metric(low, "Non-zeros"))
    assert metric(high, "AUC") != metric(low, "AUC")


def test_neuron_pruning_is_labelled_compacted_and_removes_parameters():
    at = open_app("prune", method="neuron_l1", ratio=0.5)
    assert any("COMPACTED" in s.value for s in at.success)
    assert number(metric(at, "Parameters")) < 6209


def test_per_layer_override_changes_only_that_layer():
    at = open_app("prune", ratio=0.3)
    first = at.number_input(key="override_0")
    first.set_value(0.9).run()
    assert_clean(at)
    assert at.session_state["overrides"] == {"0": 0.9}
    assert metric(at, "Sparsity") != "30%"


def test_fine_tuning_is_an_explicit_action_and_the_page_says_so():
    at = open_app("prune", ratio=0.7)
    assert any("not fine-tuned" in c.value for c in at.caption)
    at.number_input(key="ft_epochs").set_value(2)
    at.button(key="ft_run").click().run()
    assert_clean(at)
    assert any("fine-tuned 2 epochs" in c.value for c in at.caption)
    assert any(t.key == "use_fine_tuned" for t in at.toggle)
    at.toggle(key="use_fine_tuned").set_value(False).run()
    assert any("not fine-tuned" in c.value for c in at.caption)


def test_tradeoffs_page_draws_the_sweep_with_a_pareto_table():
    at = open_app("tradeoffs")
    charts = plotly_charts(at)
    assert charts
    fig = json.loads(charts[0].proto.spec)
    names = {t.get("name") for t in fig["data"]}
    assert {"Pareto front", "original", "current setting", "passes the policy", "acceptable Pareto front"} <= names
    [front] = [d.value for d in at.dataframe if "passes the policy" in d.value.columns]
    assert len(front) >= 2 and front["passes the policy"].isin([True, False]).all()
    points = {t.get("name"): t for t in fig["data"]}
    assert len(points["passes the policy"]["x"]) >= 1  # light settings of the sample pass the default policy
    at.selectbox(key="tradeoff_metric").set_value("ks").run()
    at.selectbox(key="tradeoff_size").set_value("file_bytes").run()
    assert_clean(at)


def test_explain_page_shows_importance_shift_kpis():
    at = open_app("explain")
    rho = number(metric(at, "Spearman ρ of importance"))
    assert -1 <= rho <= 1
    assert len(plotly_charts(at)) >= 2


def test_decision_page_shows_flips_psi_band_and_follows_the_cutoff_mode():
    at = open_app("decisions", ratio=0.6)
    psi = [m for m in at.metric if m.label == "Score PSI"][0]
    assert psi.delta in ("stable", "monitor", "significant shift")
    flipped = int(number(metric(at, "Decisions flipped")))
    tables = [d.value for d in at.dataframe if "pd_original" in d.value.columns]
    assert flipped > 0 and len(tables) == 1 and len(tables[0]) == flipped
    at = open_app("decisions", ratio=0.6, cutoff_mode="approval", approval_rate=0.6)
    assert "vs 60.0%" in [m for m in at.metric if m.label == "Approval rate"][0].delta


def test_an_uploaded_schema_less_model_and_csv_are_mapped_and_evaluated(book, uploaded_model):
    at = open_app()
    go(at, "data_model")
    upload(at, "model_upload", "my_model.pt", uploaded_model)
    upload(at, "data_upload", "book.csv", csv_bytes(book), "text/csv")
    assert_clean(at)
    [target] = [w for w in at.selectbox if w.label.startswith("Target column")]
    target.set_value(TARGET).run()
    [inputs] = [w for w in at.multiselect if w.label.startswith("Dataset columns fed")]
    inputs.set_value(model_columns()).run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert metric(at, "Model inputs") == str(len(model_columns()))
    assert metric(at, "Rows") == f"{len(book):,}"
    go(at, "overview")
    # 1,500 rows with 50+ of each outcome: an upload that is not the model's training file gets a seeded hold-out
    assert 0.75 < number(metric(at, "Test AUC")) <= 1.0
    # a hold-out gets no "may include training rows" warning (the verdict strip is a warning of its own)
    assert not [w.value for w in at.warning if "optimistic" in w.value]
    go(at, "prune")
    assert_clean(at)
    assert metric(at, "Sparsity") == "50%"
    go(at, "data_model")  # the sample is one click away
    at.button(key="back_to_sample").click().run()
    go(at, "overview")
    assert metric(at, "Test AUC") == "0.7715"


def test_two_sessions_never_see_each_others_uploads(book, uploaded_model):
    a, b = open_app(), open_app()
    go(a, "data_model")
    upload(a, "model_upload", "theirs.pt", uploaded_model)
    upload(a, "data_upload", "theirs.csv", csv_bytes(book), "text/csv")
    go(b, "overview")
    assert metric(b, "Test AUC") == "0.7715"
    assert all("theirs" not in m.value for m in b.metric)


def test_a_bad_upload_shows_an_error_and_keeps_the_working_model():
    at = open_app()
    go(at, "data_model")
    upload(at, "model_upload", "broken.pt", b"this is not a model")
    assert_clean(at)
    assert any("broken.pt" in e.value and "was not used" in e.value for e in at.error)
    go(at, "overview")
    assert metric(at, "Test AUC") == "0.7715"


def _flagged_groups_of_the_sample(ratio: float) -> int:
    """Groups below four-fifths under the original model, computed with core alone (sidebar defaults)."""
    from conftest import SAMPLE_DATA, SAMPLE_MODEL

    from core.data import read_table
    from core.governance.segments import default_segment_columns
    from core.hashing import sha256_hex
    from core.model import load_model
    from core.prune import PruneSpec
    from core.workspace import bind, compare_workspace, prune_workspace, segment_fairness_for

    model = load_model(SAMPLE_MODEL.read_bytes())
    frame = read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame
    ws = bind(model, frame, "creditability", "bad", data_sha256=sha256_hex(SAMPLE_DATA.read_bytes()))
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_layer", ratio))
    cutoff = compare_workspace(ws, pruned).cutoff.cutoff
    fair = segment_fairness_for(ws, pruned, cutoff, tuple(default_segment_columns(ws.data.frame, ws.data.target)))
    return int(fair.summary_frame()["flagged_original"].sum())


def test_governance_page_shows_air_reasons_and_out_of_time(book):
    at = open_app("governance", ratio=0.7)
    assert int(number(metric(at, "Groups below four-fifths (original)"))) == _flagged_groups_of_the_sample(ratio=0.7)
    assert 0 <= number(metric(at, "Same principal reason")) <= 100
    assert any("No out-of-time sample" in i.value for i in at.info)
    charts = plotly_charts(at)
    assert len(charts) >= 2  # one AIR chart per default segment column + the reasons chart
    import pandas as pd
    from conftest import SAMPLE_DATA

    later = pd.read_csv(SAMPLE_DATA).sample(400, random_state=1)
    upload(at, "oot_upload", "later.csv", later.to_csv(index=False).encode(), "text/csv")
    assert_clean(at)
    assert metric(at, "Out-of-time applicants") == "400"
    assert [m for m in at.metric if m.label == "Score PSI (pruned)"][0].delta in ("stable", "monitor", "significant shift")


def test_governance_out_of_time_upload_with_wrong_columns_is_a_clear_error(book):
    at = open_app("governance")
    upload(at, "oot_upload", "other_book.csv", csv_bytes(book), "text/csv")
    assert_clean(at)
    assert any("does not fit the model" in e.value for e in at.error)


def test_report_page_offers_the_model_at_once_and_every_file_after_a_build():
    at = open_app("report", method="neuron_l1", ratio=0.5)
    assert any(b.label.startswith("Download pruned model") for b in at.get("download_button"))
    assert any("Build the report" in i.value for i in at.info)
    at.button(key="build_report").click().run()
    assert_clean(at)
    labels = {b.label for b in at.get("download_button")}
    assert {"report.html", "report.pdf", "report.docx", "deck.pptx", "pruned_model.pt", "pruned_model.onnx", "manifest.json",
            "Download everything (.zip)"} <= labels
    bundle = next(iter(at.session_state["report_bundles"].values()))
    html = bundle.files["report.html"].decode("utf-8")
    assert f"{bundle.content.comparison.pruned.auc:.4f}" in html
    assert "id='fairness'" in html and "id='governance'" not in html  # the validation pack's order: fairness has its own section
    assert bundle.files["report.pdf"].startswith(b"%PDF")


def test_a_report_built_from_a_fine_tuned_setting_records_the_fine_tuning():
    sidebar = {"method": "neuron_l1", "ratio": 0.5}
    at = open_app("prune", **sidebar)

    def run(step):  # AppTest drops the sidebar's state after a run (see apptest_support): set it before each
        for key, value in sidebar.items():
            at.session_state[key] = value
        step()
        assert_clean(at)

    at.number_input(key="ft_epochs").set_value(2)
    run(lambda: at.button(key="ft_run").click().run())
    run(lambda: go(at, "report"))
    run(lambda: at.button(key="build_report").click().run())
    bundle = next(iter(at.session_state["report_bundles"].values()))
    settings = json.loads(bundle.files["manifest.json"])["settings"]
    assert settings["fine_tune"]["epochs"] == 2 and settings["prune"]["method"] == "neuron_l1"
    assert bundle.content.fine_tuned["epochs"] == 2


def test_a_per_layer_setting_that_stops_applying_is_dropped_with_a_note_not_an_error():
    at = open_app("prune", method="magnitude_layer", ratio=0.5)
    at.session_state["method"], at.session_state["ratio"] = "magnitude_layer", 0.5
    at.number_input(key="override_7").set_value(0.9).run()  # the sample's output layer, fine for weights
    assert_clean(at)
    assert at.session_state["overrides"] == {"7": 0.9}
    at.session_state["method"], at.session_state["ratio"] = "neuron_l1", 0.5  # output neurons are never removed
    at.run()
    assert_clean(at)
    assert not at.error
    assert any("Linear 32→1 (#7) does not apply to Neurons" in i.value for i in at.info)  # named as the reader sees it
    assert at.session_state["overrides"] == {}
    assert metric(at, "Sparsity") != "0%"


def test_an_invalid_setting_is_a_clear_error_on_every_analysis_page():
    for page in ("explain", "tradeoffs", "decisions", "governance", "report"):
        at = open_app(page, method="neuron_l1", ratio=0.5, overrides={"7": 0.5})
        assert_clean(at)
        assert any("never removed" in e.value for e in at.error), page


def test_prune_page_says_whether_the_auc_change_is_larger_than_noise():
    at = open_app("prune", ratio=0.5)
    [ci] = [c.value for c in at.caption if c.value.startswith("ΔAUC")]
    assert "95 % CI" in ci and ("within sampling noise" in ci or "larger than sampling noise" in ci)
    assert "paired bootstrap, 200 resamples" in ci
