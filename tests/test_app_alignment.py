"""Score alignment in the dashboard: chosen on the Prune page, applied on every page, before/after on Decision impact."""
from __future__ import annotations

import pytest
from apptest_support import assert_clean, go, number, open_app

pytestmark = pytest.mark.app


def test_aligning_to_the_original_at_half_neuron_pruning_lowers_the_shown_psi_and_says_so():
    sidebar = {"method": "neuron_l1", "ratio": 0.5}
    at = open_app("decisions", **sidebar)
    psi_raw = number([m for m in at.metric if m.label == "Score PSI"][0].value)
    go(at, "prune")
    at.radio(key="align_method_widget").set_value("to_original")
    for key, value in sidebar.items():
        at.session_state[key] = value
    at.run()
    assert_clean(at)
    assert any(s.value.startswith("Applied: ") for s in at.success)
    for key, value in sidebar.items():
        at.session_state[key] = value
    go(at, "decisions")  # another page: the choice is kept and said
    assert_clean(at)
    psi_aligned = number([m for m in at.metric if m.label == "Score PSI"][0].value)
    assert psi_aligned < psi_raw
    assert any("scores aligned (align to the original" in c.value for c in at.caption)
    [effect] = [d.value for d in at.dataframe if "pruned, scores aligned" in d.value.columns]
    psi_row = effect.set_index("quantity").loc["Score PSI vs original"]
    assert psi_row["pruned, scores aligned"] == pytest.approx(psi_aligned, abs=1e-4)
    assert psi_row["pruned, scores as pruned"] == pytest.approx(psi_raw, abs=1e-4)
