"""The presenter's slide deck: opens with python-pptx, the expected slides in order, every picture a real chart
(decodes, not one flat colour, the same PNG bytes as the PDF and the DOCX), every word in an editable text box."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from torch import nn

from core.explain.sample import ExplainSettings
from core.model import load_model, model_to_bytes
from core.prune import FineTuneSpec, PruneSpec
from core.report import DECK_PPTX, DECK_TITLES, ReportOptions, build_bundle, content_for, deck_bytes, run_report
from core.report.document import takeaway
from core.validation import PackOptions
from core.workspace import Setting, bind

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]  # a report run and a dozen matplotlib charts: several seconds



@pytest.fixture(scope="module")
def sample_deck(sample_holdout):
    """The sample pruned, fine-tuned 1 epoch (so the stability slide shows seeds), governance on two segment columns."""
    ws = sample_holdout
    options = ReportOptions(run_sweep=False, explain=ExplainSettings(120, 40), segment_columns=("housing", "foreign_worker"),
                            pack=PackOptions(stability_seeds=3))
    setting = Setting(PruneSpec.make("neuron_l2", 0.4), FineTuneSpec(epochs=1, seed=2))
    run = run_report(ws, setting, options)
    content = content_for(ws, run, options=options)
    bundle = build_bundle(ws, run, content)
    return content, Presentation(io.BytesIO(bundle.files[DECK_PPTX]))


def _titles(prs) -> list[str]:
    return [s.shapes.title.text for s in prs.slides]


def test_deck_has_the_expected_slides_in_order(sample_deck):
    content, prs = sample_deck
    titles = _titles(prs)
    assert 8 <= len(titles) <= 12
    assert titles[0] == f"Pruning proposal: {content.model_name}"
    assert titles[1:] == list(DECK_TITLES[1:])
    assert prs.slide_width > prs.slide_height  # 16:9 for a projector


def test_every_picture_is_a_non_blank_chart_shared_with_the_pdf_and_docx(sample_deck):
    content, prs = sample_deck
    charts = {content.chart(n): n for n in ("size", "performance", "rank", "calibration", "flips", "shift", "fairness", "seeds")}
    seen = []
    for slide in prs.slides:
        for sh in slide.shapes:
            if sh.shape_type != MSO_SHAPE_TYPE.PICTURE:
                continue
            blob = sh.image.blob
            pixels = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB")).astype(np.uint32)
            assert pixels.shape[0] > 100 and pixels.shape[1] > 200
            colours = np.unique((pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2])
            assert len(colours) > 10  # not one flat colour: axes, bars, text
            assert blob in charts  # drawn once, the same bytes everywhere
            seen.append((slide.shapes.title.text, charts[blob]))
    assert [n for _, n in seen] == ["size", "performance", "rank", "calibration", "flips", "shift", "fairness", "seeds"]


def test_each_chart_slide_carries_its_takeaway_in_an_editable_text_box(sample_deck):
    content, prs = sample_deck
    by_title = {s.shapes.title.text: s for s in prs.slides}
    for title, chart in (("Size saved", "size"), ("Performance vs challenger", "performance"), ("Decision impact", "flips"),
                         ("Fairness", "fairness"), ("Stability", "seeds")):
        boxes = [sh.text_frame.text for sh in by_title[title].shapes if sh.shape_type == MSO_SHAPE_TYPE.TEXT_BOX]
        assert any(t.startswith(takeaway(content, chart)) for t in boxes), title
    for slide in prs.slides:
        for sh in slide.shapes:  # words live in text boxes, placeholders or tables, never inside a picture
            assert sh.shape_type in (MSO_SHAPE_TYPE.TEXT_BOX, MSO_SHAPE_TYPE.PLACEHOLDER, MSO_SHAPE_TYPE.TABLE, MSO_SHAPE_TYPE.PICTURE)
    verdict = by_title["Verdict"]
    table = next(sh.table for sh in verdict.shapes if sh.has_table)
    rows = [[c.text for c in r.cells] for r in table.rows]
    results = [r for r in content.pack.verdict.results if r.status != "off"]
    assert rows[0] == ["Criterion", "Value", "Limit", "Status"] and [r[0] for r in rows[1:]] == [r.label for r in results]
    last = " ".join(sh.text_frame.text for sh in by_title["Recommendation and next steps"].shapes if sh.has_text_frame)
    assert content.pack.verdict.headline in last and "Independent validator" in last


def test_a_deck_without_pack_shap_or_segments_says_so_instead_of_showing_a_chart():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    frame["bad"] = np.where(rng.random(n) < 1 / (1 + np.exp(-(frame["a"] - frame["b"]))), "1", "0")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 1))
    ws = bind(load_model(model_to_bytes(torch.jit.script(net.eval())), "untrained.pt"), frame, "bad", "1", feature_columns=["a", "b", "c"])
    options = ReportOptions(bootstrap=20, run_sweep=False, explain=None, governance=False, validation=False)
    run = run_report(ws, PruneSpec.make("magnitude_layer", 0.3), options)
    prs = Presentation(io.BytesIO(deck_bytes(content_for(ws, run, options=options))))
    assert _titles(prs)[1:] == list(DECK_TITLES[1:])
    text = {s.shapes.title.text: " ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in prs.slides}
    assert "No acceptance policy was evaluated" in text["Verdict"]
    assert "No SHAP comparison was computed" in text["Importance shift"]
    assert "Fairness was not assessed" in text["Fairness"]
    pictures = {s.shapes.title.text for s in prs.slides for sh in s.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE}
    assert pictures == {"Size saved", "Decision impact", "Stability"}  # only charts whose numbers exist
