"""RiskPrune from a notebook: your own ``nn.Module`` in, a pruned model and a committee report out.

The dashboard works on uploaded files; data scientists work on the module they just trained.
These few functions are the same engine the dashboard and the CLI run, in the order of a
validation::

    from core import api

    frame = api.load_data("loans.csv")
    schema = api.fit_schema(frame, columns, target="default", bad_value="1", categorical="code")
    ws = api.bind(model, frame, schema=schema)                 # an nn.Module, a .pt path or bytes
    api.blocks(ws)                                             # what can be pruned, block by block
    pruned = api.prune(ws, "neuron_l1", 0.5)                   # compacted through DepGraph where exact
    api.compare(ws, pruned).to_frame()                         # AUC, Gini, KS, Brier… and deltas
    shift = api.explain(ws, pruned)                            # SHAP importance shift
    api.export(ws, pruned, "pruned.pt", onnx_path="pruned.onnx")   # opens in the dashboard
    api.report(ws, "neuron_l1", 0.5, "out/")                   # report.html/.pdf/.docx, deck, models, manifest

Every function takes and returns the engine's own objects (``Workspace``, ``PrunedModel``,
``Comparison``, ``ImportanceShift``), so nothing here computes a number the dashboard would not.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from torch import nn

from core.data.dataset import prepare_dataset
from core.data.reading import read_table
from core.data.schema import FeatureSchema
from core.errors import DataError, ModelError
from core.explain.sample import ExplainSettings
from core.explain.shift import ImportanceShift, importance_shift
from core.files import atomic_write_bytes
from core.hashing import sha256_hex
from core.metrics.comparison import Comparison
from core.metrics.decisions import DecisionRule
from core.model.loading import LoadedModel, load_model
from core.model.modules import load_module
from core.prune.blocks import block_summary, prunable_units
from core.prune.spec import PruneSpec
from core.report.bundle import ReportBundle, ReportOptions, build_report
from core.report.export import onnx_bytes, onnx_max_difference, torchscript_bytes
from core.workspace.binding import EVAL_HOLDOUT, Workspace
from core.workspace.binding import bind as bind_loaded
from core.workspace.operations import PrunedModel, attributions_for, compare_workspace, prune_workspace, reference_inputs

__all__ = ["load_data", "fit_schema", "bind", "blocks", "block_table", "prune", "compare", "explain", "export",
           "report", "Exported"]


def load_data(source: str | Path | bytes | pd.DataFrame, name: str = "data.csv", sheet: str | None = None) -> pd.DataFrame:
    """A table from a CSV / Parquet / Excel path or bytes, read with the dashboard's checks (a frame passes through)."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"The data file '{source}' does not exist.", "Check the path.")
        return read_table(path.read_bytes(), path.name, sheet=sheet).frame
    return read_table(bytes(source), name, sheet=sheet).frame


def fit_schema(frame: pd.DataFrame, columns: Sequence[str], *, target: str | None = None, bad_value: str | None = None,
               categorical: str = "categorical", codes: Iterable[str] = (), split_seed: int | None = None) -> FeatureSchema:
    """``FeatureSchema.fit`` on training rows: how raw columns become the model's inputs, with reference values.

    ``categorical="code"`` encodes text categories as one integer input each (for embedding models);
    ``codes`` names numeric columns that already hold integer codes.
    """
    return FeatureSchema.fit(frame, list(columns), target=target, bad_value=bad_value, split_seed=split_seed,
                             categorical=categorical, codes=tuple(codes))


def bind(model: nn.Module | LoadedModel | str | Path | bytes, frame: pd.DataFrame, target: str | None = None,
         bad_value: str | None = None, *, schema: FeatureSchema | None = None, features: Sequence[str] | None = None,
         eval_mode: str = EVAL_HOLDOUT, split_seed: int | None = None, name: str = "model.pt") -> Workspace:
    """The model bound to its data: evaluation (and training) rows fixed, output kind detected, twin verified.

    ``model`` is your ``nn.Module`` (scripted — or traced on the rows — for export; the module itself is
    the eager twin DepGraph compacts), a TorchScript file path or bytes, or a loaded model. ``schema``
    (or the file's embedded one) maps raw columns to inputs; without one, ``features`` names the
    numeric columns fed in order. ``eval_mode`` "holdout" (default) evaluates on a seeded 20 % test
    split and keeps the 60 % training split for fine-tuning and reference values.
    """
    if isinstance(model, LoadedModel):
        loaded = model
    elif isinstance(model, nn.Module):
        rows = _model_rows(frame, target, bad_value, schema, features)
        loaded = load_module(model, rows, schema, name)
    elif isinstance(model, (str, Path)):
        path = Path(model)
        if not path.is_file():
            raise ModelError(f"The model file '{model}' does not exist.", "Check the path.")
        loaded = load_model(path.read_bytes(), path.name)
    else:
        loaded = load_model(bytes(model), name)
    schema = loaded.schema or schema
    target = target or (schema.target if schema is not None else None)
    bad_value = bad_value if bad_value is not None else (schema.bad_value if schema is not None else None)
    if not target or bad_value is None:
        raise DataError("The target column and the value meaning bad are needed.", "Pass target=... and bad_value=....")
    if loaded.schema is None and schema is not None:  # a schema given here travels with the model from now on
        from dataclasses import replace

        loaded = replace(loaded, schema=schema)
    return bind_loaded(loaded, frame, target, str(bad_value), feature_columns=list(features) if features else None,
                       eval_mode=eval_mode, split_seed=split_seed)


def _model_rows(frame, target, bad_value, schema, features) -> np.ndarray:
    target = target or (schema.target if schema is not None else None)
    bad_value = bad_value if bad_value is not None else (schema.bad_value if schema is not None else None)
    if schema is not None:
        return schema.transform(frame)
    if not target or bad_value is None:
        raise DataError("The target column and the value meaning bad are needed.", "Pass target=... and bad_value=....")
    return prepare_dataset(frame, target, str(bad_value), feature_columns=list(features) if features else None).X


def blocks(ws: Workspace | LoadedModel) -> pd.DataFrame:
    """What can be pruned, per weight layer and structured group: block, kind, units, compacted or masked and why."""
    if isinstance(ws, Workspace):
        return prunable_units(ws.model, reference_inputs(ws))
    return prunable_units(ws)


def block_table(ws: Workspace | LoadedModel) -> pd.DataFrame:
    """One row per block: its layers, weights and the structured units it offers."""
    if isinstance(ws, Workspace):
        return block_summary(ws.model, reference_inputs(ws))
    return block_summary(ws)


def prune(ws: Workspace, method: str, ratio: float, *, overrides: Mapping[str, float] | None = None, seed: int = 0,
          kinds: Iterable[str] | None = None) -> PrunedModel:
    """Prune a copy of the workspace's model (``core.prune`` methods; ``kinds`` limits weight methods,
    e.g. ``("linear", "attention")`` keeps embeddings dense) and score it on the evaluation rows."""
    return prune_workspace(ws, PruneSpec.make(method, ratio, overrides, seed, kinds))


def compare(ws: Workspace, pruned: PrunedModel, *, cutoff: float | None = None, approval_rate: float | None = None,
            bootstrap: int = 200, seed: int = 0) -> Comparison:
    """Original vs pruned on the evaluation rows: every risk metric, deltas with paired-bootstrap CIs, flips."""
    return compare_workspace(ws, pruned, DecisionRule(cutoff=cutoff, approval_rate=approval_rate), bootstrap=bootstrap, seed=seed)


def explain(ws: Workspace, pruned: PrunedModel, *, rows: int = 200, background: int = 100, seed: int = 0) -> ImportanceShift:
    """SHAP importance of both models on the same seeded applicants and background, and how it moved (per variable)."""
    sample = ExplainSettings(rows, background, seed).draw(len(ws.eval_idx))
    return importance_shift(attributions_for(ws, None, sample), attributions_for(ws, pruned, sample), ws.data.groups)


@dataclass(frozen=True)
class Exported:
    """Where the pruned model was written, how large it is and how far ONNX is from torch (None: not written)."""

    torchscript: Path
    torchscript_bytes: int
    onnx: Path | None
    onnx_max_difference: float | None
    inputs: tuple[str, ...]  # the columns (or variables) the exported model reads, in order
    sha256: str


def export(ws: Workspace, pruned: PrunedModel, path: str | Path, *, onnx_path: str | Path | None = None) -> Exported:
    """Write the shipped model as TorchScript with its schema (it opens in the dashboard) and, if asked,
    as ONNX checked with onnxruntime against torch on the evaluation rows."""
    result = pruned.result
    data = torchscript_bytes(result)
    atomic_write_bytes(path, data)
    onnx_file, diff = None, None
    if onnx_path is not None:
        blob = onnx_bytes(result, ws.model.n_inputs, ws.X_eval)
        diff = onnx_max_difference(blob, result.shipped, result.inputs_for(ws.X_eval))
        atomic_write_bytes(onnx_path, blob)
        onnx_file = Path(onnx_path)
    schema = result.export_schema
    inputs = tuple(schema.raw_columns) if schema is not None else tuple(ws.data.input_names)
    return Exported(Path(path), len(data), onnx_file, diff, inputs, sha256_hex(data))


def report(ws: Workspace, method: str, ratio: float, out_dir: str | Path, *, seed: int = 0,
           options: ReportOptions | None = None, model_name: str | None = None) -> ReportBundle:
    """Prune, compare, sweep, explain, validate and write report.html/.pdf/.docx, deck.pptx,
    pruned_model.pt/.onnx and manifest.json into ``out_dir`` — what ``python -m core report`` writes."""
    spec = PruneSpec.make(method, ratio, seed=seed)
    options = options or ReportOptions(bootstrap_seed=seed, sweep_seed=seed, explain=ExplainSettings(seed=seed))
    bundle = build_report(ws, spec, options, model_file=ws.model.name, model_name=model_name or ws.model.name,
                          command=["core.api.report", method, str(ratio)])
    out = Path(out_dir)
    for name, data in bundle.files.items():
        atomic_write_bytes(out / name, data)
    return bundle
