"""The committed sample model reproduces, through core, the numbers the README states."""
from __future__ import annotations

import re

from conftest import ROOT

from core.metrics import auc, gini, ks
from core.workspace import EVAL_HOLDOUT


def _readme_value(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^\| {name} \| ([0-9.]+) \|$", text, flags=re.M)
    assert match, f"README has no '| {name} | … |' row"
    return match.group(1)


def test_sample_model_reproduces_readme_test_metrics_to_four_decimals(sample_holdout):
    ws = sample_holdout
    assert ws.eval_mode == EVAL_HOLDOUT and len(ws.eval_idx) == 200  # the model's own held-out split
    assert f"{auc(ws.y_eval, ws.original_scores):.4f}" == _readme_value("AUC")
    assert f"{gini(ws.y_eval, ws.original_scores):.4f}" == _readme_value("Gini")
    assert f"{ks(ws.y_eval, ws.original_scores):.4f}" == _readme_value("KS")


def test_readme_states_the_sample_parameter_count(sample_model):
    model = sample_model
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{model.n_parameters:,} parameters" in text
