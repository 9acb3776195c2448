"""Cached computations for the pages: keyed by content hash + spec, bounded, never shared mutably.

Every cache key starts with the workspace key (model file hash + data fingerprint + binding
choices), so two sessions with different uploads can never receive each other's results; two
sessions with identical inputs share results safely because results are immutable.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

from core.errors import RiskPruneError
from core.explain import Attributions, ExplainSample
from core.metrics import Comparison
from core.prune import (
    FineTuneSpec,
    PruneSpec,
    SweepResult,
    fine_tune,
    make_context,
    sweep,
)
from core.workspace import (
    PrunedModel,
    Workspace,
    attributions_for,
    compare_workspace,
    prune_workspace,
    reference_inputs,
    sample_for,
    scored,
)

from .controls import current_spec, cutoff_args
from .widgets import show_error

PRUNE_ENTRIES = 64
SHAP_ENTRIES = 32
FINE_TUNED_PER_SESSION = 8


@st.cache_resource(max_entries=PRUNE_ENTRIES, show_spinner=False)
def _pruned(ws_key: str, spec_key: str, _ws: Workspace, _spec: PruneSpec) -> PrunedModel:
    return prune_workspace(_ws, _spec)


@st.cache_resource(max_entries=PRUNE_ENTRIES, show_spinner=False)
def _comparison(ws_key: str, pruned_key: str, cutoff_key: str, bootstrap: int, seed: int,
                _ws: Workspace, _pruned: PrunedModel, _cutoff: dict) -> Comparison:
    return compare_workspace(_ws, _pruned, bootstrap=bootstrap, seed=seed, **_cutoff)


@st.cache_resource(max_entries=SHAP_ENTRIES, show_spinner=False)
def _attributions(ws_key: str, model_key: str, sample_key: str, _ws: Workspace, _pruned: PrunedModel | None,
                  _sample: ExplainSample) -> Attributions:
    return attributions_for(_ws, _pruned, _sample)


class BoundedCache:
    """A process-wide LRU for results whose computation draws progress into the page.

    ``st.cache_resource`` records the elements a cached function draws and replays them on a
    hit, which fails for a progress bar created outside the function; this cache only stores the
    (immutable) result. Keys start with the workspace key, like every other cache here.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)


SWEEPS = BoundedCache(max_entries=4)


def _sweep(ws: Workspace, seed: int, cutoff: dict, progress) -> SweepResult:
    ctx = make_context(ws.model, ws.X_eval, ws.y_eval, ws.output.kind, cutoff=_cutoff_value(ws, cutoff))
    return sweep(ws.model, ctx, seed=seed, X_reference=reference_inputs(ws), groups=ws.data.groups, progress=progress)


def _cutoff_value(ws: Workspace, cutoff: dict) -> float | None:
    from core.metrics import resolve_cutoff

    return resolve_cutoff(ws.y_eval, ws.original_scores, **cutoff).cutoff


def _fine_tuned_store() -> OrderedDict:
    return st.session_state.setdefault("fine_tuned_models", OrderedDict())


def pruned_base(ws: Workspace, spec: PruneSpec | None = None) -> PrunedModel:
    spec = spec or current_spec()
    return _pruned(ws.key, spec.key, ws, spec)


def fine_tuned_for(ws: Workspace, spec: PruneSpec) -> PrunedModel | None:
    return _fine_tuned_store().get((ws.key, spec.key))


def current_pruned(ws: Workspace) -> PrunedModel:
    """The pruned model every page shows: fine-tuned when the user fine-tuned this exact setting."""
    spec = current_spec()
    ft = fine_tuned_for(ws, spec)
    if ft is not None and st.session_state.get("use_fine_tuned", True):
        return ft
    return pruned_base(ws, spec)


def run_fine_tuning(ws: Workspace, spec: PruneSpec, ft_spec: FineTuneSpec, progress) -> PrunedModel:
    """Explicit user action only; the result stays with this session (bounded) until the inputs change."""
    base = pruned_base(ws, spec)
    result = fine_tune(base.result, ws.X_train, ws.y_train, ws.output.kind, ft_spec, progress=progress)
    tuned = scored(ws, result)
    bounded_put(_fine_tuned_store(), (ws.key, spec.key), tuned, FINE_TUNED_PER_SESSION)
    return tuned


def bounded_put(store: OrderedDict, key, value, limit: int) -> None:
    """Insert as newest and drop the oldest entries beyond ``limit`` (per-session stores stay bounded)."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def comparison(ws: Workspace, pruned: PrunedModel, bootstrap: int = 0) -> Comparison:
    cut = cutoff_args()
    seed = int(st.session_state.get("seed", 0))
    return _comparison(ws.key, pruned.key, repr(sorted(cut.items())), bootstrap, seed, ws, pruned, cut)


def explain_sample(ws: Workspace, n_rows: int = 500, n_background: int = 100, seed: int = 0) -> ExplainSample:
    return sample_for(ws, n_rows, n_background, seed)


def attributions(ws: Workspace, pruned: PrunedModel | None, sample: ExplainSample) -> Attributions:
    model_key = "original" if pruned is None else pruned.key
    return _attributions(ws.key, model_key, _sample_key(sample), ws, pruned, sample)


def _sample_key(sample: ExplainSample) -> str:
    return f"{sample.seed}|{len(sample.rows)}|{len(sample.background)}|{sample.n_available}"


def sweep_result(ws: Workspace, progress=None) -> SweepResult:
    cut = cutoff_args()
    seed = int(st.session_state.get("seed", 0))
    key = (ws.key, seed, repr(sorted(cut.items())))
    return SWEEPS.get_or_compute(key, lambda: _sweep(ws, seed, cut, progress))


@st.cache_resource(max_entries=8, show_spinner="Scoring the out-of-time sample…")
def _out_of_time(ws_key: str, pruned_key: str, oot_sha: str, cutoff: float, _ws: Workspace, _pruned: PrunedModel, _frame):
    from core.workspace import out_of_time

    return out_of_time(_ws, _pruned, _frame, cutoff)


def out_of_time_result(ws: Workspace, pruned: PrunedModel, source, cutoff: float):
    """Both models on the session's out-of-time upload; keyed by both files' hashes and the cutoff."""
    from core.data import read_table

    frame = read_table(source.data, source.name).frame
    return _out_of_time(ws.key, pruned.key, source.sha256, float(cutoff), ws, pruned, frame)


@st.cache_resource(max_entries=PRUNE_ENTRIES, show_spinner=False)
def _curves(ws_key: str, model_key: str, _ws: Workspace, _scores):
    from core.metrics import score_deciles, strategy_curve

    return score_deciles(_ws.y_eval, _scores), strategy_curve(_ws.y_eval, _scores)


def decision_curves(ws: Workspace, pruned: PrunedModel | None):
    """(calibration deciles, strategy curve) of the original (None) or a pruned model; read-only use."""
    scores = ws.original_scores if pruned is None else pruned.scores
    return _curves(ws.key, "original" if pruned is None else pruned.key, ws, scores)


@st.cache_resource(max_entries=PRUNE_ENTRIES, show_spinner=False)
def _segments(ws_key: str, pruned_key: str, cutoff: float, specs_key: str, _ws: Workspace, _pruned: PrunedModel, _specs):
    from core.workspace import segment_fairness_for

    return segment_fairness_for(_ws, _pruned.scores, cutoff, list(_specs))


def segments(ws: Workspace, pruned: PrunedModel, cutoff: float, specs):
    return _segments(ws.key, pruned.key, float(cutoff), repr(specs), ws, pruned, tuple(specs))


@st.cache_resource(max_entries=PRUNE_ENTRIES, show_spinner=False)
def _reasons(ws_key: str, pruned_key: str, sample_key: str, cutoff: float, k: int, _ws: Workspace, _pruned: PrunedModel,
             _att_o: Attributions, _att_p: Attributions):
    from core.workspace import adverse_action_reasons_for

    return adverse_action_reasons_for(_ws, _pruned.scores, _att_o, _att_p, cutoff, k=k)


def reasons(ws: Workspace, pruned: PrunedModel, sample: ExplainSample, cutoff: float, k: int):
    """Adverse-action reason stability on the Explain page's SHAP sample (attributions cached too)."""
    att_o, att_p = attributions(ws, None, sample), attributions(ws, pruned, sample)
    return _reasons(ws.key, pruned.key, _sample_key(sample), float(cutoff), int(k), ws, pruned, att_o, att_p)


def pruned_or_stop(ws: Workspace, context: str, bootstrap: int = 0) -> tuple[PrunedModel, Comparison]:
    """The shown pruned model and its comparison with the original, or a clear error and a stop."""
    try:
        cur = current_pruned(ws)
        return cur, comparison(ws, cur, bootstrap=bootstrap)
    except RiskPruneError as err:
        show_error(err, context)
        st.stop()
        raise  # unreachable: st.stop() ends the script run
