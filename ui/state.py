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

from core.data import MissingValues, Table, data_profile, default_inputs, guess_bad_value, read_table, target_summary, target_values
from core.data.columns import ColumnRoles, column_roles
from core.data.guess import TargetGuess, guess_split_column, guess_target
from core.errors import DataError, RiskPruneError
from core.hashing import sha256_hex
from core.model import LoadedModel, load_model
from core.workspace import SamplePlan, Workspace, bind, interactive_workspace
from core.workspace.binding import EVAL_HOLDOUT, EVAL_SEPARATE_FILE, EVAL_SPLIT_COLUMN, EvaluationRows

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"
CACHE_ENTRIES = 8
# the session's binding choices; a new data file forgets all of them, a new model the model-side ones
DATA_CHOICES = ("target", "bad_value", "one_vs_rest", "missing", "feature_columns", "feature_columns_target", "sheet",
                "eval_mode", "eval_split_column", "eval_split_value", "eval_seed", "eval_source", "sample_rows", "sample_seed")
MODEL_CHOICES = ("output_override", "feature_columns", "feature_columns_target", "eval_mode", "eval_seed")
NO_TARGET = ("No target column is chosen for this data yet, so nothing can be measured.",
             "Pick the target (the column that says whether the applicant defaulted) on the Data & model page.")


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
    forget_choices((*DATA_CHOICES, *MODEL_CHOICES))


def forget_choices(keys) -> None:
    """Drop binding choices when a file changes (the page's widgets are keyed by file hash, so they reset too)."""
    for key in keys:
        st.session_state.pop(key, None)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Loading and checking the model…")
def _load_model(sha256: str, name: str, _data: bytes) -> LoadedModel:
    return load_model(_data, name)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Reading the data file…")
def _load_table(sha256: str, name: str, sheet: str | None, _data: bytes) -> Table:
    return read_table(_data, name, sheet=sheet)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Looking for the outcome column…")
def _guess(data_sha: str, sheet: str | None, preferred: str | None, _table: Table) -> TargetGuess:
    return guess_target(_table.frame, preferred)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Scoring the data with the model…")
def _bind(
    model_sha: str, data_sha: str, sheet: str | None, target: str, bad_value: str,
    feature_columns: tuple[str, ...] | None, output_override: str | None, rows_key: str | None,
    missing: str | None, one_vs_rest: bool,
    _model: LoadedModel, _table: Table, _rows: EvaluationRows | None, _eval_table: Table | None,
) -> Workspace:
    return bind(
        _model, _table.frame, target, bad_value,
        feature_columns=list(feature_columns) if feature_columns is not None else None,
        output_override=output_override, eval_mode=_rows, data_sha256=data_sha, missing=missing, one_vs_rest=one_vs_rest,
        eval_data=_eval_table.frame if _eval_table is not None else None,
    )


def current_model() -> LoadedModel:
    src: Source = st.session_state["model_source"]
    return _load_model(src.sha256, src.name, src.data)


def source_table(src: Source, sheet: str | None = None) -> Table:
    """A held file parsed once per content (bounded cache), e.g. the out-of-time upload."""
    return _load_table(src.sha256, src.name, sheet, src.data)


def current_table() -> Table:
    return source_table(st.session_state["data_source"], st.session_state.get("sheet"))


def target_guess(model: LoadedModel, table: Table) -> TargetGuess:
    """The proposed outcome column (the schema's target first), cached per file."""
    dsrc: Source = st.session_state["data_source"]
    preferred = model.schema.target if model.schema is not None else None
    return _guess(dsrc.sha256, st.session_state.get("sheet"), preferred, table)


def current_target(model: LoadedModel, table: Table) -> str | None:
    """The user's target if it is still a column, else the guess (None: nothing qualifies, ask)."""
    picked = st.session_state.get("target")
    if picked is not None and picked in table.frame.columns:
        return picked
    return target_guess(model, table).column


def evaluation_rows() -> EvaluationRows | None:
    """The session's evaluation-row choice (None: the engine's default for this file)."""
    mode = st.session_state.get("eval_mode")
    if mode is None:
        return None
    if mode == EVAL_SPLIT_COLUMN:
        column = st.session_state.get("eval_split_column")
        if not column:
            raise DataError("Evaluation rows from a split column need the column.", "Pick the split column below the choice.")
        return EvaluationRows(EVAL_SPLIT_COLUMN, column=column, value=st.session_state.get("eval_split_value"))
    if mode == EVAL_SEPARATE_FILE:
        src: Source | None = st.session_state.get("eval_source")
        return EvaluationRows(EVAL_SEPARATE_FILE, file_sha256=src.sha256 if src else None, file_name=src.name if src else None)
    if mode == EVAL_HOLDOUT:
        seed = st.session_state.get("eval_seed")
        return EvaluationRows(EVAL_HOLDOUT, seed=None if seed is None else int(seed))
    return EvaluationRows(mode)


def default_features(model: LoadedModel, table: Table, target: str) -> list[str]:
    """A schema-less model's default inputs for ``target``: numeric, not identifiers, not the split column."""
    frame = table.frame
    split = st.session_state.get("eval_split_column") if st.session_state.get("eval_mode") == EVAL_SPLIT_COLUMN else None
    if split in frame.columns and split != target:
        frame = frame.drop(columns=[split])
    return default_inputs(frame, target, model.n_inputs)


def choices(model: LoadedModel, table: Table) -> dict:
    """The user's binding choices, with defaults filled in from the schema and the data.

    ``target`` is None when the user has not picked one and no column qualifies as the outcome.
    Inputs picked for another target are dropped, so a target change rebuilds the default mapping
    (the new target leaves the inputs, the old one may join them).
    """
    target = current_target(model, table)
    bad, features = None, None
    if target is not None:
        values = target_values(table.frame, target)
        bad = st.session_state.get("bad_value")
        if bad not in values:
            schema_bad = model.schema.bad_value if model.schema is not None else None
            bad = schema_bad if schema_bad in values else (guess_bad_value(values) or (values[-1] if values else ""))
        if model.schema is None:
            features = st.session_state.get("feature_columns")
            if features is None or st.session_state.get("feature_columns_target") != target:
                features = default_features(model, table, target)
    missing = st.session_state.get("missing")
    return {
        "target": target,
        "bad_value": bad,
        "one_vs_rest": bool(st.session_state.get("one_vs_rest", False)),
        "missing": MissingValues.of(missing).strategy if missing else None,
        "feature_columns": tuple(features) if (model.schema is None and features is not None) else None,
        "output_override": st.session_state.get("output_override"),
    }


def sample_plan() -> SamplePlan:
    """How interactive pages pick rows on a large book (chosen on the Data & model page; automatic by default)."""
    return SamplePlan(rows=st.session_state.get("sample_rows"), seed=int(st.session_state.get("sample_seed", 0)))


def workspace() -> Workspace:
    """The workspace interactive pages compute on: the bound one, or its stratified sample on a large book."""
    return interactive_workspace(bound_workspace(), sample_plan())


def bound_workspace() -> Workspace:
    """The bound model × data of this session (every evaluation row); raises RiskPruneError with a user message."""
    model = current_model()
    table = current_table()
    c = choices(model, table)
    if c["target"] is None:
        raise DataError(*NO_TARGET)
    rows = evaluation_rows()
    eval_src: Source | None = st.session_state.get("eval_source") if rows is not None and rows.mode == EVAL_SEPARATE_FILE else None
    eval_table = source_table(eval_src) if eval_src is not None else None
    msrc: Source = st.session_state["model_source"]
    dsrc: Source = st.session_state["data_source"]
    return _bind(
        msrc.sha256, dsrc.sha256, st.session_state.get("sheet"), c["target"], c["bad_value"],
        c["feature_columns"], c["output_override"], None if rows is None else rows.key, c["missing"], c["one_vs_rest"],
        model, table, rows, eval_table,
    )


def workspace_or_stop() -> Workspace:
    """For analysis pages: the workspace, or a clear error and a stop (never a traceback).

    When every row evaluates on a file that may hold training rows, the warning is shown above
    the page's headline metrics (every analysis page starts here).
    """
    try:
        ws = workspace()
    except RiskPruneError as err:
        st.error(f"The model and data cannot be used together yet: {err}")
        st.page_link("pages/data_model.py", label="Fix it on the Data & model page", icon="🛠️")  # every binding choice is there
        st.stop()
    if ws.evaluation_warning:
        st.warning(ws.evaluation_warning, icon="⚠️")
    if ws.is_sample:
        st.caption(f"📊 Large file: the figures on this page are computed on {ws.rows_label} "
                   f"(seed {sample_plan().seed}, same bad rate), so every slider move stays quick. "
                   "Headline figures on all rows are on the Prune and Decision impact pages; the sample size is set on the "
                   "Data & model page.")
    return ws


def data_summary(table: Table, target: str):
    """The target's outcomes with counts (cached per file and target)."""
    dsrc: Source = st.session_state["data_source"]
    return _target_summary(dsrc.sha256, st.session_state.get("sheet"), target, table)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Counting the outcomes…")
def _target_summary(data_sha: str, sheet: str | None, target: str, _table: Table):
    return target_summary(_table.frame, target)


def bounded_put(store: OrderedDict, key, value, limit: int) -> None:
    """Insert as newest and drop the oldest entries beyond ``limit`` (per-session stores stay bounded)."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Profiling the data…")
def _profile(data_sha: str, sheet: str | None, target: str | None, model_sha: str, _table: Table, _model: LoadedModel):
    return data_profile(_table.frame, target, _model.schema)


def profile_for(model: LoadedModel, table: Table, target: str | None):
    """The data profile (type, missing share, distinct values, range, flags per column), cached per file and target."""
    dsrc: Source = st.session_state["data_source"]
    msrc: Source = st.session_state["model_source"]
    return _profile(dsrc.sha256, st.session_state.get("sheet"), target, msrc.sha256, table, model)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Reading the columns…")
def _roles(data_sha: str, sheet: str | None, target: str, _table: Table) -> ColumnRoles:
    return column_roles(_table.frame, exclude=target)


def roles_for(table: Table, target: str) -> ColumnRoles:
    """Numeric, identifier and text columns other than the target (what a schema-less model can be fed)."""
    dsrc: Source = st.session_state["data_source"]
    return _roles(dsrc.sha256, st.session_state.get("sheet"), target, table)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner="Looking for a train / test split column…")
def _split_guess(data_sha: str, sheet: str | None, target: str | None, _table: Table) -> str | None:
    return guess_split_column(_table.frame, exclude=[target] if target else [])


def split_column_guess(table: Table, target: str | None) -> str | None:
    """The column that most likely marks training vs evaluation rows (e.g. sample = train/test), cached per file."""
    dsrc: Source = st.session_state["data_source"]
    return _split_guess(dsrc.sha256, st.session_state.get("sheet"), target, table)
