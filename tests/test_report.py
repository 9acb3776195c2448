"""Committee report: sections in the validator's order, numbers equal core's, offline HTML ≤ 5 MB, PDF pages render,
DOCX opens, undefined numbers are words in every format, manifest hashes, policy and verdict."""
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
    DECK_PPTX,
    MANIFEST,
    MODEL_ONNX,
    MODEL_PT,
    REPORT_DOCX,
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

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]  # every test renders a report (HTML, PDF, DOCX, deck): seconds each


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


VALIDATOR_ORDER = ["summary", "tradeoffs", "change", "data", "performance", "rank", "calibration", "stability", "explain", "fairness",
                   "decisions", "limitations", "monitoring", "signoff", "glossary", "appendix"]


def test_html_sections_follow_the_order_a_validator_reads(sample_bundle):
    _, _, bundle = sample_bundle
    doc = _parse(bundle.files[REPORT_HTML].decode())
    assert doc.ids == VALIDATOR_ORDER
    text = doc.visible
    assert "Fairness was not assessed" in text  # governance off: said, not silently dropped


def test_html_opens_with_the_verdict_the_policy_and_the_validation_numbers(sample_bundle):
    ws, run, bundle = sample_bundle
    pack = run.pack
    html = bundle.files[REPORT_HTML].decode()
    text = _parse(html).visible
    summary = text[text.index("1. Summary verdict"):text.index("2. Candidates considered")]
    assert pack.verdict.headline in summary and pack.verdict.policy_name in summary
    for r in pack.verdict.results:
        assert r.label in summary and r.rule in summary
    assert pack.materiality.headline in text
    ch = pack.challenger
    for p in ch.performance:
        assert f"{p.auc:.4f}" in text and f"{p.auc_low:.4f} – {p.auc_high:.4f}" in text and f"{p.ks:.4f}" in text
    for j in ch.justification:
        assert j.sentence in text
    d = pack.delong
    assert f"{d.p_value:.4g}" in text and f"{d.low:+.4f} to {d.high:+.4f}" in text
    assert pack.rank["pruned"].summary().replace("Bad rate", "Pruned: bad rate", 1) in text
    hl = pack.calibration["pruned"].hosmer_lemeshow
    assert f"{hl.statistic:.2f} (df {hl.df})" in text
    from core.metrics import cumulative_capture

    cap = cumulative_capture(ws.y_eval, run.pruned.scores).set_index("share_of_applicants")
    captured = float(cap["share_of_bads_captured"].iloc[20])  # the riskiest 20 %
    assert f"{captured * 100:.1f}%" in text and f"{captured / 0.2:.2f}" in text
    for t in pack.change.triggers:
        assert t.amber in text and t.red in text
    for ref in ("SR 26-2 / OCC 2026-13", "PRA SS1/23", "EBA/REP/2023/28", "CFPB Circular 2023-03"):
        assert ref in text
    assert "Independent validator" in text and "Package versions" in text


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


def test_html_is_self_contained_and_under_2_mb(sample_bundle):
    _, _, bundle = sample_bundle
    html = bundle.files[REPORT_HTML].decode()
    doc = _parse(html)
    assert not [s for s in doc.scripts if "external" in s or re.match(r"https?://", s.get("src") or "")]
    assert not re.search(r"<script[^>]+src=", html)
    assert html.count("Plotly.newPlot") >= 10  # interactive charts, one per chart of the PDF
    assert len(re.findall(r"plotly\.js \(basic - minified\) v\d", html)) == 1  # the basic bundle, embedded exactly once
    assert "plotly.js v" not in html  # never the full 4.8 MB bundle as well
    assert ORIGINAL_COLOUR in html and PRUNED_COLOUR in html
    assert len(bundle.files[REPORT_HTML]) <= 2_000_000


def test_the_vendored_plotly_bundle_matches_the_python_package_and_draws_every_report_chart(sample_bundle):
    from plotly.offline import get_plotlyjs_version

    from core.report.document import Chart, document
    from core.report.html import FIGURES, PLOTLY_JS, PLOTLY_TRACES

    header = PLOTLY_JS.read_text(encoding="utf-8")[:200]
    assert f"v{get_plotlyjs_version()}" in header  # the figures' JSON is written for this plotly.js
    assert PLOTLY_JS.with_name("plotly.js-LICENSE").read_text().startswith("MIT License")
    _, _, bundle = sample_bundle
    drawn = [b.name for s in document(bundle.content) for b in s.blocks if isinstance(b, Chart)]
    assert len(drawn) >= 10
    for name in drawn:
        assert {t.type for t in FIGURES[name](bundle.content).data} <= PLOTLY_TRACES, name


def test_a_chart_the_basic_bundle_cannot_draw_is_refused_not_shipped_blank():
    import plotly.graph_objects as go

    from core.report.html import chart_div

    with pytest.raises(ValueError, match="heatmap"):
        chart_div(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])), "x")


def _pdftoppm() -> str:
    path = shutil.which("pdftoppm")
    assert path, "pdftoppm (poppler-utils) is required: scripts/test.sh installs it"
    return path


def test_every_pdf_page_renders_and_is_not_blank(sample_bundle, tmp_path):
    from PIL import Image

    _, _, bundle = sample_bundle
    pdf = bundle.files[REPORT_PDF]
    assert pdf.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run([_pdftoppm(), "-png", "-r", "30", str(tmp_path / "r.pdf"), str(tmp_path / "p")],
                   check=True, capture_output=True, timeout=120)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) >= 8
    for png in pages:
        pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
        assert pixels.std() > 5, png.name  # a blank page is one flat colour
        assert (pixels < 128).mean() > 0.0005, png.name  # there is dark ink (headings, tables)


def test_pdf_has_every_section(sample_bundle, tmp_path):
    _, run, bundle = sample_bundle
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is required: scripts/test.sh installs it"
    (tmp_path / "r.pdf").write_bytes(bundle.files[REPORT_PDF])
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    positions = [flat.index(f"{i}. {title}") for i, (_, title) in enumerate(bundle.content.sections, 1)]
    assert positions == sorted(positions) and len(positions) == len(VALIDATOR_ORDER)
    assert f"{run.comparison.pruned.auc:.4f}" in text
    assert run.pack.verdict.headline.split(" — ")[0] in flat and run.pack.challenger.justification[1].sentence[:60] in flat
    assert "SHA-256" in text and run.pruned.result.model_hash in text.replace("\n", "")


def test_docx_opens_with_every_section_tables_and_the_shared_chart_images(sample_bundle):
    import io

    from docx import Document

    _, run, bundle = sample_bundle
    doc = Document(io.BytesIO(bundle.files[REPORT_DOCX]))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"{i}. {title}" for i, (_, title) in enumerate(bundle.content.sections, 1)]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert run.pack.verdict.headline in text and run.pack.materiality.headline in text
    signoff = next(t for t in doc.tables if t.rows[0].cells[0].text == "Role")
    assert [c.text for c in signoff.rows[0].cells][:3] == ["Role", "Responsibility", "Name"]
    assert all(r.cells[2].text == "" and r.cells[4].text == "" for r in signoff.rows[1:])  # names and dates to fill in
    images = {p.blob for p in doc.part.related_parts.values() if p.content_type == "image/png"}
    content = bundle.content
    drawn = {content.chart(n) for n in ("size", "performance", "rank", "calibration", "flips")}
    assert drawn <= images  # the same PNG bytes as the PDF and the deck


def test_manifest_records_settings_seeds_and_output_hashes(sample_bundle):
    ws, run, bundle = sample_bundle
    m = json.loads(bundle.files[MANIFEST])
    for name in (REPORT_HTML, REPORT_PDF, REPORT_DOCX, DECK_PPTX, MODEL_PT, MODEL_ONNX):
        assert m["outputs"][name]["sha256"] == hashlib.sha256(bundle.files[name]).hexdigest()
    assert m["policy"] == json.loads(json.dumps(FAST.policy.to_dict()))
    assert m["verdict"]["headline"] == run.pack.verdict.headline and m["verdict"]["policy_key"] == FAST.policy.key
    assert m["validation"]["materiality"]["class"] == run.pack.materiality.cls
    assert m["validation"]["delong"]["p_value"] == run.pack.delong.p_value
    assert m["inputs"]["model"]["sha256"] == hashlib.sha256(SAMPLE_MODEL.read_bytes()).hexdigest()
    assert m["inputs"]["data"]["sha256"] == hashlib.sha256(SAMPLE_DATA.read_bytes()).hexdigest()
    assert m["settings"]["prune"]["method"] == "neuron_l1" and m["settings"]["prune"]["ratio"] == 0.5
    assert m["settings"]["evaluation"]["mode"] == ws.eval_mode and m["settings"]["evaluation"]["split_seed"] == ws.split_seed
    assert m["settings"]["explain"]["rows"] == 150 and m["settings"]["explain"]["background"] == 50
    assert m["settings"]["cutoff"]["value"] == run.comparison.cutoff.cutoff
    assert set(m["seeds"]) >= {"prune", "split", "bootstrap", "explain", "sweep", "policy_bootstrap", "challenger"}
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
    doc = _parse(html)  # no validation pack given: its sections are left out, the rest keeps the validator's order
    assert doc.ids == ["summary", "change", "data", "performance", "stability", "explain", "fairness", "decisions", "limitations",
                       "signoff", "glossary", "appendix"]
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


# --------------------------------------------------------------------------- size and undefined numbers, every format


def _texts(bundle, tmp_path) -> dict[str, str]:
    """The words a reader sees in each format: HTML visible text, PDF text, DOCX paragraphs and cells, deck text."""
    import io

    from docx import Document
    from pptx import Presentation

    (tmp_path / "r.pdf").write_bytes(bundle.files[REPORT_PDF])
    pdf = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    d = Document(io.BytesIO(bundle.files[REPORT_DOCX]))
    docx = "\n".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells])
    deck = []
    for slide in Presentation(io.BytesIO(bundle.files[DECK_PPTX])).slides:
        for sh in slide.shapes:
            if sh.has_text_frame:
                deck.append(sh.text_frame.text)
            if sh.has_table:
                deck += [c.text for r in sh.table.rows for c in r.cells]
    return {"html": _parse(bundle.files[REPORT_HTML].decode()).visible, "pdf": pdf, "docx": docx, "deck": "\n".join(deck)}


def test_undefined_numbers_are_words_in_html_pdf_docx_and_deck(tmp_path):
    """Declining everyone leaves the bad rate of approved applicants undefined: every format says why, none says nan."""
    from dataclasses import replace

    from core.policy import default_policy
    from core.report import build_report

    model_bytes, frame, cols = _trained_schema_less(2)
    ws = bind(load_model(model_bytes, "tiny.pt"), frame, "default", "yes", feature_columns=cols, eval_mode="holdout")
    options = ReportOptions(rule=DecisionRule(cutoff=0.001), bootstrap=30, run_sweep=False, explain=ExplainSettings(40, 20),
                            segment_columns=("region",), policy=replace(default_policy(), bootstrap_resamples=30))
    bundle = build_report(ws, PruneSpec.make("magnitude_layer", 0.4), options)
    assert bundle.content.comparison.pruned.approval_rate == 0  # the case under test: nobody approved
    texts = _texts(bundle, tmp_path)
    for fmt, text in texts.items():
        assert not re.search(r"\bnan\b|\binf\b", text, re.IGNORECASE), fmt
    for fmt in ("html", "pdf", "docx"):
        assert "undefined: nobody approved" in " ".join(texts[fmt].split()), fmt


def _document_lines(content):
    """Every line the three renderers print, straight from the shared document: titles, paragraphs, bullets,
    chart takeaways, KPI boxes and table cells."""
    from core.report.document import H3, Bullets, Chart, Kpis, P, Table, document

    for section in document(content):
        yield section.title
        for block in section.blocks:
            if isinstance(block, (P, H3)):
                yield block.text
            elif isinstance(block, Bullets):
                yield from block.items
            elif isinstance(block, Chart):
                yield block.takeaway
            elif isinstance(block, Kpis):
                yield from (" | ".join(item) for item in block.items)
            elif isinstance(block, Table):
                yield " | ".join(map(str, block.frame.columns))
                yield from (" | ".join(map(str, row)) for row in block.frame.itertuples(index=False))


@pytest.mark.parametrize("rule", [DecisionRule(), DecisionRule(cutoff=0.001)], ids=["default cutoff", "nobody approved"])
def test_the_document_of_95_percent_neuron_pruning_has_no_nan_inf_or_none(sample_holdout, rule):
    """The sample with 95 % of its neurons removed (and, second, a cutoff at which the pruned model approves nobody):
    every printed line says an undefined number in words; the glossary and the flag rule are printed too."""
    from dataclasses import replace

    from core.policy import default_policy

    options = ReportOptions(rule=rule, bootstrap=30, sweep_methods=("neuron_l1",), sweep_ratios=(0.0, 0.95),
                            explain=ExplainSettings(100, 30), segment_columns=("age_in_years", "housing"),
                            policy=replace(default_policy(), bootstrap_resamples=30, explain_rows=60))
    run = run_report(sample_holdout, PruneSpec.make("neuron_l1", 0.95), options)
    content = content_for(sample_holdout, run, options=options)
    lines = list(_document_lines(content))
    bad = [line for line in lines if re.search(r"\bnan\b|\binf\b|\binfinity\b", line, re.IGNORECASE) or re.search(r"\bNone\b", line)]
    assert bad == []
    text = "\n".join(lines)
    assert "Glossary" in text and "Population stability index" in text and "Flag rule: a variable is flagged" in text
    if rule.cutoff is not None:
        assert run.comparison.pruned.approval_rate == 0 and "undefined: nobody approved" in text


def test_the_zip_of_a_bundle_is_built_once_and_holds_every_file(sample_bundle):
    import io
    import zipfile

    _, _, bundle = sample_bundle
    first = bundle.archive
    assert bundle.archive is first  # cached with the bundle: a page rerun hands out the same bytes
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert zf.namelist() == list(bundle.files) and all(zf.read(n) == bundle.files[n] for n in bundle.files)


def test_html_stays_under_2_mb_on_a_large_book():
    """Charts plot aggregates (bins, deciles, ≤ 101-point curves) and tables are bounded: 20,000 applicants, same size class."""
    from dataclasses import replace

    from builders import TARGET, model_columns, synthetic_book, trained_mlp
    from builders import model_bytes as to_bytes

    from core.policy import default_policy
    from core.report import build_report

    book = synthetic_book(n_rows=20_000, seed=5)
    model = load_model(to_bytes(trained_mlp(book, hidden=(16, 8), seed=1, epochs=20)), "big.pt")
    ws = bind(model, book, TARGET, "yes", feature_columns=model_columns(), eval_mode="all")
    options = ReportOptions(bootstrap=20, sweep_methods=("magnitude_layer",), sweep_ratios=(0.0, 0.5), explain=ExplainSettings(60, 20),
                            segment_columns=("region",), policy=replace(default_policy(), bootstrap_resamples=20, explain_rows=60))
    bundle = build_report(ws, PruneSpec.make("neuron_l1", 0.5), options)
    assert bundle.content.n_eval == 20_000 and bundle.content.pack.challenger.how == "cross-validated"
    assert len(bundle.files[REPORT_HTML]) <= 2_000_000  # plotly.js basic (1.2 MB) and the bounded content


# --------------------------------------------------------------------------- score alignment and the recommendation search


class _Serial:
    """An in-process stand-in for core.execution's executor (``map`` with a shared payload)."""

    def map(self, fn, tasks, *, shared=None, progress=None, cancel=None):
        return [fn(shared, t) for t in tasks]


def test_report_shows_the_alignment_map_and_the_candidates_of_a_recommendation(tmp_path):
    from dataclasses import replace

    from core.alignment import AlignmentSpec
    from core.policy import SearchSettings, default_policy, recommend
    from core.workspace import Setting

    model_bytes, frame, cols = _trained_schema_less(3)
    ws = bind(load_model(model_bytes, "tiny.pt"), frame, "default", "yes", feature_columns=cols, eval_mode="holdout")
    policy = replace(default_policy(), bootstrap_resamples=30, explain_rows=40, explain_background=20)
    rec = recommend(ws, policy, _Serial(), settings=SearchSettings(methods=("magnitude_layer", "neuron_l1"), grid=(0.3, 0.6)),
                    model_bytes=model_bytes)
    setting = Setting(PruneSpec.make("magnitude_layer", 0.3), alignment=AlignmentSpec("to_original", "affine"))
    options = ReportOptions(bootstrap=30, run_sweep=False, explain=ExplainSettings(40, 20), governance=False, policy=policy,
                            recommendation=rec)
    run = run_report(ws, setting, options)
    content = content_for(run.ws, run, options=options)
    doc = _parse(render_html(content))
    assert doc.ids[:4] == ["summary", "tradeoffs", "change", "alignment"]  # the map is part of the change
    text = doc.visible
    a = run.pack.alignment
    params = run.pruned.result.alignment["parameters"]
    assert f"{params['slope']:.4g}" in text and f"{params['intercept']:.4g}" in text
    assert f"Fitted on {a.fit_rows:,} rows" in text and a.effect.summary() in text
    assert a.effect.aligned.pruned.auc == run.comparison.pruned.auc  # "after" is the model the report judges
    assert rec.summary in text
    for label in rec.method_frame()["method_label"]:
        assert label in text
    assert "Score alignment" in subprocess.run(["pdftotext", "-", "-"], input=render_pdf(content), capture_output=True,
                                               check=True).stdout.decode()
