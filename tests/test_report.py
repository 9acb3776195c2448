"""Committee report: HTML sections and numbers equal core's, offline, PDF renders, manifest hashes."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SAMPLE_DATA, SAMPLE_MODEL
from torch import nn

from core.explain import importance_shift
from core.explain.sample import ExplainSettings
from core.formatting import fmt_num
from core.hashing import sha256_hex
from core.metrics import DecisionRule
from core.model import load_model, model_to_bytes, module_hash
from core.prune import PruneSpec, make_context, sweep
from core.report import (
    MANIFEST,
    MODEL_ONNX,
    MODEL_PT,
    REPORT_HTML,
    REPORT_PDF,
    ReportOptions,
    build_bundle,
    build_report_content,
    content_for,
    manifest_bytes,
    run_report,
)
from core.report.html import render_html
from core.report.pdf import render_pdf
from core.report.style import ORIGINAL_COLOUR, PRUNED_COLOUR
from core.workspace import attributions_for, bind, compare_workspace, prune_workspace, reference_inputs

pytestmark = pytest.mark.slow  # every test renders a report (HTML + PDF): seconds each

FAST = ReportOptions(sweep_methods=("magnitude_layer", "neuron_l1"), sweep_ratios=(0.0, 0.5, 0.9), explain=ExplainSettings(150, 50),
                     governance=False)


class _Doc(HTMLParser):
    """Collects section ids, script tags and the visible text of an HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.scripts: list[dict] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "id" in a:
            self.ids.append(a["id"])
        if tag == "script":
            self.scripts.append(a)
            self._in_script = True
        for name in ("href", "src"):
            if tag in ("link", "img", "iframe") and re.match(r"https?://", a.get(name) or ""):
                self.scripts.append({"external": a[name]})

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def _parse(html: str) -> _Doc:
    d = _Doc()
    d.feed(html)
    return d


@pytest.fixture(scope="module")
def sample_bundle(sample_holdout):
    data_bytes = SAMPLE_DATA.read_bytes()
    ws = sample_holdout
    model = ws.model
    before = module_hash(model.scripted)
    run = run_report(ws, PruneSpec.make("neuron_l1", 0.5), FAST)
    content = content_for(ws, run, data_name=SAMPLE_DATA.name, data_sha256=sha256_hex(data_bytes), options=FAST)
    bundle = build_bundle(ws, run, content, model_file=SAMPLE_MODEL.name, data_file=SAMPLE_DATA.name)
    assert module_hash(model.scripted) == before  # building a report never touches the model
    return ws, run, bundle


def test_report_numbers_are_reproduced_from_the_exported_model_independently(sample_bundle, tmp_path):
    """A validator reloads pruned_model.pt, scores the evaluation rows and recomputes AUC with scikit-learn."""
    from sklearn.metrics import roc_auc_score

    from core.metrics import bootstrap_deltas
    from core.model import predict_pbad

    ws, run, bundle = sample_bundle
    reloaded = load_model(bundle.files[MODEL_PT], "pruned_model.pt")
    scores = predict_pbad(reloaded.module, ws.X_eval, ws.output.kind)
    np.testing.assert_allclose(scores, run.pruned.scores, rtol=0, atol=1e-6)
    assert run.comparison.pruned.auc == pytest.approx(roc_auc_score(ws.y_eval, scores), abs=1e-9)
    assert run.comparison.original.auc == pytest.approx(roc_auc_score(ws.y_eval, ws.original_scores), abs=1e-9)
    ci = bootstrap_deltas(ws.y_eval, ws.original_scores, scores, resamples=FAST.bootstrap, seed=FAST.bootstrap_seed)["auc"]
    assert (ci.low, ci.high) == pytest.approx((run.comparison.ci["auc"].low, run.comparison.ci["auc"].high), abs=1e-6)
    assert run.shift is not None and run.shift.n_rows == FAST.explain.rows


def test_html_has_every_section_and_no_governance_when_none_given(sample_bundle):
    _, _, bundle = sample_bundle
    doc = _parse(bundle.files[REPORT_HTML].decode())
    assert doc.ids == ["summary", "method", "sparsity", "tradeoffs", "metrics", "explain", "decisions", "limitations"]


def test_html_numbers_equal_core(sample_bundle):
    ws, run, bundle = sample_bundle
    c, r = run.comparison, run.pruned.result
    text = _parse(bundle.files[REPORT_HTML].decode()).visible
    for value in (c.pruned.auc, c.original.auc, c.pruned.ks, c.pruned.brier, c.pruned.log_loss, c.pruned.gini,
                  c.psi.value, c.cutoff.cutoff, c.spearman):
        assert fmt_num(value) in text
    assert f"{c.pruned.auc:.4f}" in text
    assert f"{c.delta('auc'):+.4f}" in text
    assert f"95% CI {c.ci['auc'].low:+.4f} to {c.ci['auc'].high:+.4f}" in text
    assert f"{r.original_size.parameters:,} → {r.size.parameters:,}" in text
    assert f"{r.original_size.file_bytes:,} → {r.size.file_bytes:,}" in text
    assert f"{c.flips.count} of {len(ws.eval_idx)} applicants" in text
    assert c.psi.band in text
    for name in run.shift.flagged:
        assert name in text
    assert "COMPACTED" in text and c.cutoff.how in text


def test_html_is_self_contained(sample_bundle):
    _, _, bundle = sample_bundle
    html = bundle.files[REPORT_HTML].decode()
    doc = _parse(html)
    assert not [s for s in doc.scripts if "external" in s or re.match(r"https?://", s.get("src") or "")]
    assert not re.search(r"<script[^>]+src=", html)
    assert html.count("Plotly.newPlot") >= 5  # interactive charts
    assert len(re.findall(r"plotly\.js v\d", html)) == 1  # the library embedded exactly once
    assert ORIGINAL_COLOUR in html and PRUNED_COLOUR in html


def _pdftoppm() -> str:
    path = shutil.which("pdftoppm")
    assert path, "pdftoppm (poppler-utils) is required: scripts/test.sh installs it"
    return path


def test_pdf_first_page_renders_and_is_not_blank(sample_bundle, tmp_path):
    from PIL import Image

    _, _, bundle = sample_bundle
    pdf = bundle.files[REPORT_PDF]
    assert pdf.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run([_pdftoppm(), "-png", "-r", "50", "-f", "1", "-l", "1", str(tmp_path / "r.pdf"), str(tmp_path / "p")],
                   check=True, capture_output=True, timeout=60)
    png = next(tmp_path.glob("p*.png"))
    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
    assert pixels.std() > 5  # a blank page is one flat colour
    assert (pixels < 128).mean() > 0.005  # there is dark ink (title, tables)


def test_pdf_has_every_section(sample_bundle, tmp_path):
    _, run, bundle = sample_bundle
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is required: scripts/test.sh installs it"
    (tmp_path / "r.pdf").write_bytes(bundle.files[REPORT_PDF])
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    for heading in ("Executive summary", "Method and settings", "Layer sparsity", "Size vs risk trade-off",
                    "Metrics: original vs pruned", "SHAP importance shift", "Decision impact", "Limitations and intended use"):
        assert heading in text
    assert f"{run.comparison.pruned.auc:.4f}" in text
    assert "SHA-256" in text and run.pruned.result.model_hash in text.replace("\n", "")


def test_manifest_records_settings_seeds_and_output_hashes(sample_bundle):
    ws, run, bundle = sample_bundle
    m = json.loads(bundle.files[MANIFEST])
    for name in (REPORT_HTML, REPORT_PDF, MODEL_PT, MODEL_ONNX):
        assert m["outputs"][name]["sha256"] == hashlib.sha256(bundle.files[name]).hexdigest()
    assert m["inputs"]["model"]["sha256"] == hashlib.sha256(SAMPLE_MODEL.read_bytes()).hexdigest()
    assert m["inputs"]["data"]["sha256"] == hashlib.sha256(SAMPLE_DATA.read_bytes()).hexdigest()
    assert m["settings"]["prune"]["method"] == "neuron_l1" and m["settings"]["prune"]["ratio"] == 0.5
    assert m["settings"]["evaluation"]["mode"] == ws.eval_mode and m["settings"]["evaluation"]["split_seed"] == ws.split_seed
    assert m["settings"]["explain"]["rows"] == 150 and m["settings"]["explain"]["background"] == 50
    assert m["settings"]["cutoff"]["value"] == run.comparison.cutoff.cutoff
    assert set(m["seeds"]) >= {"prune", "split", "bootstrap", "explain", "sweep"}
    assert m["results"]["auc_pruned"] == run.comparison.pruned.auc
    assert m["packages"]["torch"].split("+")[0] == torch.__version__.split("+")[0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", m["created_utc"])


def test_manifest_json_has_no_nan():
    text = manifest_bytes({"a": float("nan"), "b": [float("inf"), 1.0]}).decode()
    assert json.loads(text) == {"a": None, "b": [None, 1.0]}


# --------------------------------------------------------------------------- a model built here


def _trained_schema_less(seed: int = 0):
    """A small trained MLP without schema, its data frame (text column, shuffled order) and target."""
    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame({
        "income": rng.normal(size=n), "region": rng.choice(["north", "south"], n), "age": rng.normal(size=n),
        "debt": rng.normal(size=n), "utilisation": rng.normal(size=n),
    })
    logit = 1.5 * frame["debt"] - 1.0 * frame["income"] + 0.5 * frame["utilisation"]
    frame["default"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    cols = ["income", "age", "debt", "utilisation"]
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 6), nn.ReLU(), nn.Linear(6, 2))
    X = torch.tensor(frame[cols].to_numpy(np.float32))
    y = torch.tensor((frame["default"] == "yes").to_numpy(np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(80):
        opt.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
    return model_to_bytes(torch.jit.script(net.eval())), frame, cols


class _Gov:
    """Stands in for a governance result: anything with tables behind ``to_frame``."""

    @dataclass
    class _Part:
        frame: pd.DataFrame
        note: str = ""

        def to_frame(self):
            return self.frame

    def __init__(self) -> None:
        self.adverse_impact = self._Part(pd.DataFrame({"segment": ["north", "south"], "air": [0.97, 1.02]}), "four-fifths rule")
        self.reason_stability = self._Part(pd.DataFrame({"reason": ["debt"], "kept": [0.9]}))
        # wide and long, like a per-segment table: the PDF must split it rather than overflow the page
        self.wide = self._Part(pd.DataFrame({f"column_{i}": np.arange(45) * i / 7 for i in range(21)}))


def test_report_on_schema_less_test_model_with_governance_and_no_sweep(tmp_path):
    model_bytes, frame, cols = _trained_schema_less()
    model = load_model(model_bytes, "tiny.pt")
    ws = bind(model, frame, "default", "yes", feature_columns=cols, eval_mode="holdout")
    pruned = prune_workspace(ws, PruneSpec.make("input_features", 0.5))
    comparison = compare_workspace(ws, pruned, DecisionRule(approval_rate=0.6), bootstrap=50)
    sample = ExplainSettings(60, 30, 1).draw(len(ws.eval_idx))
    shift = importance_shift(attributions_for(ws, None, sample), attributions_for(ws, pruned, sample), ws.data.groups)
    content = build_report_content(ws, pruned, comparison, None, shift, _Gov(), data_name="tiny.csv",
                                   explain_settings={"rows": 60, "background": 30, "seed": 1})
    html = render_html(content)
    doc = _parse(html)
    assert doc.ids == ["summary", "method", "sparsity", "metrics", "explain", "decisions", "governance", "limitations"]
    text = doc.visible
    assert "four-fifths rule" in text and "0.9700" in text and "Reason stability" in text
    assert "column_20" in text and f"{44 * 20 / 7:.4f}" in text  # every column and row of a generic table
    assert f"{comparison.pruned.auc:.4f}" in text and "two-class logits" in text
    assert "original model approves 60.0% of applicants" in text
    assert "tiny.pt" in text  # no schema name: the file name titles the report
    for v in pruned.result.dropped_variables:
        assert v in text
    assert "held-out rows" in text  # the limitations say what the rows were
    pdf = render_pdf(content)
    (tmp_path / "t.pdf").write_bytes(pdf)
    subprocess.run([_pdftoppm(), "-png", "-r", "30", str(tmp_path / "t.pdf"), str(tmp_path / "p")], check=True, capture_output=True)
    assert len(list(tmp_path.glob("p*.png"))) >= 3
    text = subprocess.run(["pdftotext", str(tmp_path / "t.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    assert "column_20" in text and "First 30 of 45 rows shown" in text


def test_masked_report_says_masked_and_sweep_marks_chosen_point():
    model_bytes, frame, cols = _trained_schema_less(1)
    model = load_model(model_bytes, "tiny.pt")
    ws = bind(model, frame, "default", "yes", feature_columns=cols)
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.5))
    comparison = compare_workspace(ws, pruned)  # no bootstrap: the report must say so, not invent an interval
    ctx = make_context(model, ws.X_eval, ws.y_eval, ws.output.kind, comparison.cutoff.cutoff)
    result = sweep(model, ctx, methods=("magnitude_global", "random"), ratios=(0.0, 0.5), X_reference=reference_inputs(ws))
    content = build_report_content(ws, pruned, comparison, result)
    # without fine-tuning, the chosen model is exactly the sweep point of the same method and ratio
    row = result.table[(result.table["method"] == "magnitude_global") & (result.table["ratio"] == 0.5)].iloc[0]
    assert row["auc"] == content.chosen_point["auc"] and row["nonzeros"] == content.chosen_point["nonzeros"]
    doc = _parse(render_html(content))
    assert "tradeoffs" in doc.ids and "explain" in doc.ids
    text = doc.visible
    assert "MASKED" in text and "file size and inference cost do not shrink" in text
    assert "No SHAP comparison" in text
    assert "no CI computed" in text and "No bootstrap interval was computed" in text and "95% CI" not in text
