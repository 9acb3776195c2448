"""Session state and cached loading: the only place pages get their model and data from.

Session state keeps small keys only (names, hashes, choices) plus the session's own uploaded
bytes, so two browser sessions never see each other's uploads. Heavy objects are cached by
content hash with bounded entries; they are shared across sessions only when the bytes are
identical, and they are never mutated (pruning always builds new modules).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.data import Table, default_inputs, guess_bad_value, read_table, target_values
from core.errors import RiskPruneError
from core.hashing import sha256_hex
from core.model import LoadedModel, load_model
from core.workspace import Workspace, bind

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"
CACHE_ENTRIES = 8


@dataclass(frozen=True)
class Source:
    """An uploaded (or sample) file held by this session."""

    name: str
    sha256: str
    data: bytes
    is_sample: bool = False


def _sample_source(path: Path) -> Source:
    data = path.read_bytes()
    return Source(path.name, sha256_hex(data), data, is_sample=True)


def init_session() -> None:
    """First visit: load the sample model and data so the app is useful immediately."""
    if "model_source" not in st.session_state:
        use_sample()


def use_sample() -> None:
    st.session_state["model_source"] = _sample_source(SAMPLE_MODEL)
    st.session_state["data_source"] = _sample_source(SAMPLE_DATA)
    forget_choices(("target", "bad_value", "feature_columns", "output_override", "eval_mode", "sheet"))


def forget_choices(keys) -> None:
    """Drop binding choices when a file changes (the page's widgets are keyed by file hash, so they reset too)."""
    for key in keys:
        st.session_state.pop(key, None)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def _load_model(sha256: str, name: str, _data: bytes) -> LoadedModel:
    return load_model(_data, name)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def _load_table(sha256: str, name: str, sheet: str | None, _data: bytes) -> Table:
    return read_table(_data, name, sheet=sheet)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Scoring the data with the model…")
def _bind(
    model_sha: str, data_sha: str, sheet: str | None, target: str, bad_value: str,
    feature_columns: tuple[str, ...] | None, output_override: str | None, eval_mode: str | None,
    _model: LoadedModel, _table: Table,
) -> Workspace:
    return bind(
        _model, _table.frame, target, bad_value,
        feature_columns=list(feature_columns) if feature_columns is not None else None,
        output_override=output_override, eval_mode=eval_mode, data_sha256=data_sha,
    )


def current_model() -> LoadedModel:
    src: Source = st.session_state["model_source"]
    return _load_model(src.sha256, src.name, src.data)


def source_table(src: Source, sheet: str | None = None) -> Table:
    """A held file parsed once per content (bounded cache), e.g. the out-of-time upload."""
    return _load_table(src.sha256, src.name, sheet, src.data)


def current_table() -> Table:
    return source_table(st.session_state["data_source"], st.session_state.get("sheet"))


def default_target(model: LoadedModel, table: Table) -> str:
    cols = list(table.frame.columns)
    if model.schema is not None and model.schema.target in cols:
        return model.schema.target
    for c in cols:
        if str(c).lower() in ("target", "default", "bad", "label", "y", "creditability", "is_bad", "defaulted"):
            return c
    return cols[-1]


def choices(model: LoadedModel, table: Table) -> dict:
    """The user's binding choices, with defaults filled in from the schema and the data."""
    target = st.session_state.get("target") or default_target(model, table)
    if target not in table.frame.columns:
        target = default_target(model, table)
    values = target_values(table.frame, target)
    bad = st.session_state.get("bad_value")
    if bad not in values:
        schema_bad = model.schema.bad_value if model.schema is not None else None
        bad = schema_bad if schema_bad in values else (guess_bad_value(values) or (values[-1] if values else ""))
    features = st.session_state.get("feature_columns")
    if model.schema is None and features is None:
        features = default_inputs(table.frame, target, model.n_inputs)
    return {
        "target": target,
        "bad_value": bad,
        "feature_columns": tuple(features) if (model.schema is None and features is not None) else None,
        "output_override": st.session_state.get("output_override"),
        "eval_mode": st.session_state.get("eval_mode"),
    }


def workspace() -> Workspace:
    """The bound model × data of this session; raises RiskPruneError with a user message."""
    model = current_model()
    table = current_table()
    c = choices(model, table)
    msrc: Source = st.session_state["model_source"]
    dsrc: Source = st.session_state["data_source"]
    return _bind(
        msrc.sha256, dsrc.sha256, st.session_state.get("sheet"), c["target"], c["bad_value"],
        c["feature_columns"], c["output_override"], c["eval_mode"], model, table,
    )


def workspace_or_stop() -> Workspace:
    """For analysis pages: the workspace, or a clear error and a stop (never a traceback)."""
    try:
        return workspace()
    except RiskPruneError as err:
        st.error(f"The model and data cannot be used together yet: {err}")
        st.page_link("pages/data_model.py", label="Fix it on the Data & model page", icon="🛠️")
        st.stop()


def bounded_put(store: OrderedDict, key, value, limit: int) -> None:
    """Insert as newest and drop the oldest entries beyond ``limit`` (per-session stores stay bounded)."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)
