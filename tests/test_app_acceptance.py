"""The acceptance policy in the dashboard: a verdict on every page, the policy editor, recommend."""
from __future__ import annotations

import pytest
from apptest_support import assert_clean, go, open_app

from core.policy import default_policy
from core.prune import PruneSpec, method_label

pytestmark = pytest.mark.app


def _strip(at) -> str:
    texts = [e.value for e in (*at.success, *at.warning) if "⚖" in str(e.icon) or "under the policy" in e.value]
    assert texts, "no verdict strip on the page"
    return texts[0]


def test_every_page_shows_the_verdict_of_the_shown_model():
    at = open_app("overview", method="magnitude_layer", ratio=0.1)
    for page in ("overview", "prune", "tradeoffs", "explain", "decisions", "governance", "acceptance", "report"):
        at.session_state["method"], at.session_state["ratio"] = "magnitude_layer", 0.1
        go(at, page)
        assert_clean(at)
        assert "under the policy" in _strip(at), page


def test_a_strict_policy_makes_the_verdict_not_acceptable_and_names_the_failing_criterion():
    at = open_app("acceptance", method="magnitude_layer", ratio=0.1)
    assert _strip(at).startswith("**Acceptable**")  # a light pruning passes the default policy
    strict = default_policy().with_criterion("score_psi", threshold=0.0001)
    at.session_state["policy"] = strict
    at.session_state["method"], at.session_state["ratio"] = "magnitude_layer", 0.1
    at.run()
    assert_clean(at)
    strip = _strip(at)
    assert strip.startswith("**Not acceptable**") and "fails 1 of" in strip and "PSI" in strip
    [table] = [d.value for d in at.dataframe if "sentence" in d.value.columns and "rule" in d.value.columns][-1:]
    failing = table[table[""] == "❌"]
    assert len(failing) == 1 and "PSI" in failing["label"].iloc[0] and "0.0001" in failing["rule"].iloc[0]


@pytest.mark.slow
def test_recommend_on_the_sample_makes_the_winner_the_current_setting():
    at = open_app("acceptance", method="magnitude_layer", ratio=0.1)
    at.session_state["policy"] = default_policy()
    at.button(key="recommend_run").click().run()
    assert_clean(at)
    _, _, rec = at.session_state["recommendation"]
    assert rec.winner is not None and rec.winner.verdict.acceptable
    at.button(key="recommend_apply").click().run()
    assert_clean(at)
    w = rec.winner
    assert at.session_state["last_applied_setting"] == PruneSpec.make(w.method, w.ratio, seed=w.seed).key
    # AppTest drops the sidebar's widget state between runs (apptest_support); a browser keeps it
    at.session_state["method"], at.session_state["ratio"], at.session_state["seed"] = w.method, w.ratio, w.seed
    at.run()
    shown = [c.value for c in at.caption if c.value.startswith("Shown model:")]
    assert shown and f"{method_label(w.method)} at {w.ratio:.0%}" in shown[0]
    assert _strip(at).startswith("**Acceptable**")
