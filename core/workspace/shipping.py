"""A workspace as plain data for an executor's workers, and its rebuilding there once per process.

Sweeps and the recommend search run their tasks through ``core.execution``: in-process, on a
local process pool or on a Ray cluster. A worker needs the same workspace the caller has — the
model *file* (never a pickled module: workers load it through ``load_model`` like an upload) and
the prepared arrays and choices (every field of ``Workspace`` but the live model), plus what
binding learnt about the model on the data (``bound_state``: the probed input width, which eager
twin it has and the rows it was verified on; a Python module handed to ``core.api`` travels
itself, as it is its own twin). The executor ships that payload once per worker; ``workspace_from`` rebuilds it once per process, checks that
the rebuilt model reproduces the caller's scores, and keeps the last few. The caller's own
workspace is registered under the payload's key (``local``), so the in-process executor reuses
it instead of loading the model again.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from core.errors import ModelError
from core.hashing import digest, sha256_hex
from core.model.graph import interpret
from core.model.loading import LoadedModel, load_model
from core.model.outputs import predict_pbad
from core.model.serialization import model_to_bytes
from core.model.twins import TOLERANCE, TWIN_CHAIN, TWIN_EAGER, TWIN_GRAPH, max_difference
from core.workspace.binding import Workspace

_KEEP = 2  # workspaces kept per process (a sweep and a search may run one after the other)


@dataclass(frozen=True, eq=False)
class WorkspacePayload:
    """The model file, what binding learnt about it and every field of a ``Workspace`` but the live model; ``key`` names them."""

    model_bytes: bytes
    model_name: str
    model_hash: str
    fields: dict
    key: str
    bound: dict


_BOUND_FIELDS = ("schema", "n_inputs", "twin_kind", "structure_note", "output_hint", "example_rows")


def bound_state(model: LoadedModel) -> dict:
    """What ``bind`` set on the loaded model (``core.model.twins.bind_rows``) that its file does not hold."""
    state = {name: getattr(model, name) for name in _BOUND_FIELDS}
    if model.twin_kind == TWIN_EAGER:  # a Python module (core.api) is its own twin: it travels itself
        state["eager"] = model.eager
    return state


def rebound(model: LoadedModel, state: dict) -> LoadedModel:
    """The freshly loaded ``model`` as the caller had it bound: same width, same kind of twin, same rows.

    A chain twin is rebuilt by ``load_model`` itself; a graph twin is re-interpreted from the file
    and checked again on the rows it was verified on.
    """
    kind = state["twin_kind"]
    eager = {TWIN_CHAIN: model.eager, TWIN_EAGER: state.get("eager")}.get(kind)
    if kind == TWIN_GRAPH:
        eager = interpret(model.scripted)
        rows = state["example_rows"]
        if rows is not None and len(rows) and not max_difference(model.scripted, eager, rows) <= TOLERANCE:
            raise ModelError("The model's eager twin rebuilt in the worker does not reproduce the model.",
                             "Run in-process.")
    if kind in (TWIN_CHAIN, TWIN_EAGER) and eager is None:
        raise ModelError(f"The model's {kind} twin could not be rebuilt in the worker.", "Run in-process.")
    return replace(model, eager=eager, **{name: state[name] for name in _BOUND_FIELDS})


def workspace_payload(ws: Workspace, model_bytes: bytes | None = None) -> WorkspacePayload:
    """``ws`` as plain data. ``model_bytes`` should be the uploaded file (its SHA-256 must be the
    workspace's model hash); without it the loaded model is serialised again."""
    if model_bytes is None:
        model_bytes = model_to_bytes(ws.model.scripted, ws.model.schema)
    elif sha256_hex(model_bytes) != ws.model.content_hash:
        raise ModelError("The model bytes given to the executor are not the workspace's model file.",
                         "Pass the bytes of the model the workspace was bound to.")
    got = sha256_hex(model_bytes)
    data = {f.name: getattr(ws, f.name) for f in fields(ws) if f.name != "model"}
    return WorkspacePayload(model_bytes, ws.model.name, got, data, digest([got, ws.key], length=32), bound_state(ws.model))


class _Kept:
    """The last few rebuilt (or registered) workspaces and whatever tasks derived from them, by payload key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > _KEEP:
                self._items.popitem(last=False)
            return item

    def drop(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


_KEPT = _Kept()


@contextmanager
def local(payload: WorkspacePayload, ws: Workspace) -> Iterator[None]:
    """While open, tasks of ``payload`` in this process use ``ws`` itself (no reload, shared memoisation)."""
    _KEPT.put(payload.key, {"workspace": ws})
    try:
        yield
    finally:
        _KEPT.drop(payload.key)


def workspace_from(payload: WorkspacePayload) -> Workspace:
    """The payload's workspace, rebuilt once per process; refuses a model that does not reproduce its scores."""
    return kept(payload)["workspace"]


def kept(payload: WorkspacePayload) -> dict[str, Any]:
    """The per-process record of a payload: ``"workspace"`` and anything a task stores beside it (e.g. a baseline)."""
    hit = _KEPT.get(payload.key)
    if hit is not None:
        return hit
    model = rebound(load_model(payload.model_bytes, payload.model_name), payload.bound)
    ws = Workspace(model=model, **payload.fields)
    check = predict_pbad(model.module, ws.X_eval[: min(len(ws.eval_idx), 64)], ws.output.kind)
    if not np.allclose(check, ws.original_scores[: len(check)], rtol=0, atol=1e-6):
        raise ModelError("The model shipped to the worker does not reproduce the workspace's scores.",
                         "Start again from the loaded workspace.")
    return _KEPT.put(payload.key, {"workspace": ws})
