"""The sidebar every page shares, and the typed settings pages read from the session.

These widgets are drawn by app.py on every run, so their values survive page switches (widgets
drawn only by one page lose their state when the user navigates away). Pages never read raw
session keys: they ask for ``current_setting()``, ``decision_rule()`` and ``explain_settings()``.
"""
from __future__ import annotations

import streamlit as st

from core.alignment import AFFINE, NO_ALIGNMENT, NONE, AlignmentSpec
from core.explain.sample import ExplainSettings
from core.metrics import DEFAULT_LGD, DecisionRule
from core.prune import FineTuneSpec, PruneSpec, get_method, method_keys, method_label
from core.workspace import Setting

CUTOFF_DEFAULT, CUTOFF_APPROVAL, CUTOFF_VALUE = "default", "approval", "cutoff"
CUTOFF_MODES = {
    CUTOFF_DEFAULT: "Decline as many as are bad (default)",
    CUTOFF_APPROVAL: "Target approval rate",
    CUTOFF_VALUE: "Fixed P(bad) cutoff",
}


def sidebar_controls() -> None:
    sb = st.sidebar
    sb.header("Pruning")
    sb.selectbox("Method", method_keys(), format_func=method_label, key="method")
    sb.slider(
        "Pruning ratio", 0.0, 0.95, value=st.session_state.get("ratio", 0.5), step=0.05, key="ratio",
        help="Share to remove: weights for unstructured methods, hidden neurons per layer for "
        "neuron methods, input variables for the input method.",
    )
    sb.number_input("Seed", 0, 1_000_000, value=st.session_state.get("seed", 0), step=1, key="seed",
                    help="Seeds every random choice (random pruning, fine-tuning, SHAP samples, bootstrap).")
    overrides = st.session_state.get("overrides") or {}
    if overrides:
        labels = st.session_state.get("override_labels") or {}
        sb.caption("Per-layer settings (Prune page): " + ", ".join(f"{labels.get(k, k)} → {v:.0%}" for k, v in overrides.items()))
    sb.header("Decisions")
    mode = sb.radio("Cutoff", list(CUTOFF_MODES), format_func=CUTOFF_MODES.get, key="cutoff_mode")
    if mode == CUTOFF_APPROVAL:
        sb.slider("Approve this share of applicants", 0.05, 0.95, value=st.session_state.get("approval_rate", 0.70),
                  step=0.01, key="approval_rate")
    elif mode == CUTOFF_VALUE:
        sb.number_input("Decline when P(bad) ≥", 0.001, 0.999, value=st.session_state.get("cutoff_value", 0.30),
                        step=0.01, format="%.3f", key="cutoff_value")


def show_setting(spec: PruneSpec, fine_tune: FineTuneSpec | None = None) -> None:
    """Make a setting the one every page shows (e.g. a recommendation).

    Use as a button's ``on_click`` callback: callbacks run before the next script run draws the
    sidebar, the one moment its widgets' values may be set from code.
    """
    st.session_state["last_applied_setting"] = spec.key
    st.session_state["method"], st.session_state["ratio"], st.session_state["seed"] = spec.method, spec.ratio, spec.seed
    st.session_state["overrides"] = dict(spec.overrides)
    if fine_tune is not None:
        fine_tunings()[spec.key] = fine_tune
        st.session_state["use_fine_tuned"] = True


def current_spec() -> PruneSpec:
    """The sidebar's pruning, with the kinds of weight matrix the Prune page limits weight methods to (if any)."""
    method = st.session_state.get("method", method_keys()[0])
    kinds = weight_kinds()
    return PruneSpec.make(
        method,
        round(float(st.session_state.get("ratio", 0.5)), 4),
        st.session_state.get("overrides") or {},
        int(st.session_state.get("seed", 0)),
        kinds if kinds and get_method(method).unstructured else None,
    )


def weight_kinds() -> list[str] | None:
    """The kinds of weight matrix chosen on the Prune page for the current model (None: every kind)."""
    stored = st.session_state.get("weight_kinds")
    source = st.session_state.get("model_source")
    if not stored or source is None or stored[0] != source.sha256:
        return None  # never carry one model's choice over to another model
    return list(stored[1]) or None


def keep_weight_kinds(widget_key: str) -> None:
    """on_change of the Prune page's kinds choice: remember it for this model file only."""
    st.session_state["weight_kinds"] = (st.session_state["model_source"].sha256, tuple(st.session_state[widget_key]))


def fine_tunings() -> dict[str, FineTuneSpec]:
    """Prune-spec key → the fine-tuning the user ran for it in this session (an explicit action only)."""
    return st.session_state.setdefault("fine_tunings", {})


def page_widget_key(state_key: str, default) -> str:
    """A widget key for a setting that one page edits but every page reads.

    Streamlit drops a widget's state when the user opens a page that does not draw it; the setting
    therefore lives under ``state_key`` and the widget (key ``<state_key>_widget``) is seeded from it
    and copies its value back on change. Pass the returned key and ``on_change=keep_setting``,
    ``args=(state_key,)`` to the widget.
    """
    widget_key = f"{state_key}_widget"
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state.get(state_key, default)
    return widget_key


def keep_setting(state_key: str) -> None:
    st.session_state[state_key] = st.session_state[f"{state_key}_widget"]


def current_alignment() -> AlignmentSpec:
    """The score alignment chosen on the Prune page (none by default)."""
    method = st.session_state.get("align_method", NONE)
    if method == NONE:
        return NO_ALIGNMENT
    return AlignmentSpec(method, st.session_state.get("align_shape", AFFINE), seed=int(st.session_state.get("seed", 0)))


def current_setting() -> Setting:
    """The model every page shows: the sidebar's pruning, fine-tuned when the user fine-tuned this setting,
    with the score alignment chosen on the Prune page."""
    spec = current_spec()
    ft = fine_tunings().get(spec.key)
    return Setting(spec, ft if ft is not None and st.session_state.get("use_fine_tuned", True) else None, current_alignment())


def decision_rule() -> DecisionRule:
    """How decisions are made, from the sidebar's decision settings."""
    mode = st.session_state.get("cutoff_mode", CUTOFF_DEFAULT)
    if mode == CUTOFF_APPROVAL:
        return DecisionRule(approval_rate=float(st.session_state.get("approval_rate", 0.70)))
    if mode == CUTOFF_VALUE:
        return DecisionRule(cutoff=float(st.session_state.get("cutoff_value", 0.30)))
    return DecisionRule()


def explain_settings() -> ExplainSettings:
    """The SHAP sample the Explain page set (shared by Governance and the report); core's defaults otherwise."""
    d = ExplainSettings()
    return ExplainSettings(int(st.session_state.get("shap_rows", d.rows)), int(st.session_state.get("shap_background", d.background)),
                           int(st.session_state.get("shap_seed", d.seed)))


def lgd() -> float:
    return float(st.session_state.get("lgd", DEFAULT_LGD))
