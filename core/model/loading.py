"""Safe loading of an uploaded model: TorchScript only, checked before the JIT sees it.

TorchScript carries the network without Python classes, so loading it never runs arbitrary code
the way unpickling a ``torch.save(model)`` file does. Pickles, state dicts, damaged or
encrypted zips, decompression bombs and scripted code that calls custom operators or touches
files are refused with a sentence saying why and how to export the model instead.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data.schema import SCHEMA_FILE, FeatureSchema
from core.errors import ModelError
from core.files import check_upload_size
from core.formatting import size_and_limit
from core.hashing import sha256_hex
from core.model.eager import LAYER_BUILDERS, elementwise_candidate, rebuild_eager, structural_output_hint
from core.model.graph import kind_of

MAX_MODEL_BYTES = 100 * 1024 * 1024
_ALLOWED_OP_NAMESPACES = {"aten", "prim"}
_EXPORT_HINT = (
    "Export it as TorchScript instead: torch.jit.script(model).save('model.pt') "
    "(or torch.jit.trace(model, example_rows).save('model.pt'))."
)


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str
    in_features: int | None
    out_features: int | None
    parameters: int


@dataclass
class LoadedModel:
    """An uploaded model: the scripted original (never mutated) and, when possible, an eager twin.

    ``n_inputs`` is known before any data only from the embedded schema or, for a plain chain, from
    the width its verified twin ran at; otherwise it is ``None`` until ``core.model.twins.bind_rows``
    probes the model on the dataset's selected columns. ``twin_kind`` says which twin ``eager`` is
    (``core.model.twins``): "chain", "graph", "eager" or "" for none.
    """

    scripted: torch.jit.ScriptModule
    eager: nn.Module | None
    schema: FeatureSchema | None
    n_inputs: int | None
    layers: tuple[LayerInfo, ...]
    file_bytes: int
    content_hash: str
    name: str = "model.pt"
    structure_note: str = ""
    output_hint: str | None = None
    extra_files: dict[str, str] = field(default_factory=dict)
    twin_kind: str = ""
    example_rows: np.ndarray | None = field(default=None, repr=False)  # a few real rows, set when bound

    @property
    def module(self) -> nn.Module:
        """The module computations run on: the chain twin when there is one, else the scripted model.

        A graph twin re-executes the TorchScript graph node by node in Python: exact, but far slower
        than the scripted model, so it is kept for what needs an eager module (DepGraph) only.
        """
        if self.eager is not None and self.twin_kind in ("chain", ""):
            return self.eager
        return self.scripted

    @property
    def is_chain(self) -> bool:
        return self.eager is not None and self.twin_kind in ("chain", "")

    @property
    def n_parameters(self) -> int:
        return int(sum(p.numel() for p in self.scripted.parameters()))


def _refuse_non_torchscript(data: bytes, names: list[str]) -> None:
    """Explain what a non-TorchScript torch file is without ever unpickling code from it."""
    if any(n.endswith("data.pkl") for n in names):
        try:
            obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        except Exception:
            raise ModelError(
                "This file is a pickled PyTorch model (torch.save(model)); RiskPrune does not "
                "open pickled models because unpickling can run arbitrary code.",
                _EXPORT_HINT,
            ) from None
        if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            raise ModelError(
                "This file holds only weights (a state_dict), not the network that uses them.",
                _EXPORT_HINT,
            )
        raise ModelError("This PyTorch file holds data, not a model.", _EXPORT_HINT)
    raise ModelError("This zip file is not a PyTorch model.", _EXPORT_HINT)


# Builtins that touch the file system when a scripted model runs (aten::save writes any path,
# aten::from_file reads any path). Standard layers never need them, so their names anywhere in
# the model's code are refused before the JIT compiles it (``__setstate__`` runs at load time).
_FILE_OPS = ("save", "from_file")
_FILE_OP_RE = re.compile(r"\b(" + "|".join(_FILE_OPS) + r")\b")
_CODE_RE = re.compile(r"(^|/)code/.*\.py$")


def _is_code(name: str) -> bool:
    return bool(_CODE_RE.search(name))


def _check_code(zf: zipfile.ZipFile) -> None:
    """Refuse scripted code that calls custom C++ operators or reads/writes files."""
    for info in zf.infolist():
        if _is_code(info.filename):
            text = zf.read(info).decode("utf-8", errors="replace")
            for ns in set(re.findall(r"\bops\.([A-Za-z_][A-Za-z0-9_]*)\.", text)):
                if ns not in _ALLOWED_OP_NAMESPACES:
                    raise ModelError(
                        f"The model calls custom operators ('{ns}') that are not part of PyTorch.",
                        "Export a model built only from standard PyTorch layers.",
                    )
            found = _FILE_OP_RE.search(text)
            if found:
                raise ModelError(
                    f"The model's code reads or writes files (it calls '{found.group(1)}'), so "
                    "RiskPrune will not run it.",
                    "Export a model whose forward only computes scores from its inputs "
                    "(standard layers, no torch.save or torch.from_file).",
                )


_DAMAGED = (
    "The model file is damaged or incomplete (it may have been cut off during upload).",
    "Upload the complete file again.",
)


def load_model(data: bytes, name: str = "model.pt", max_bytes: int = MAX_MODEL_BYTES) -> LoadedModel:
    """Load an uploaded TorchScript file; refuse pickles, damaged files and unsupported shapes."""
    check_upload_size(data, max_bytes, ModelError, what="model file", empty_hint="Upload the TorchScript (.pt) file again.",
                      large_hint="Credit-risk MLPs are far smaller; check that the right file was picked.")
    if not data.startswith(b"PK"):
        if data[:1] == b"\x80":
            raise ModelError(
                "This file is a legacy pickle; RiskPrune does not open pickles because "
                "unpickling can run arbitrary code.",
                _EXPORT_HINT,
            )
        raise ModelError("This is not a PyTorch model file.", _EXPORT_HINT)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # zipfile raises BadZipFile, EOFError, struct/Unicode/NotImplemented errors...
        raise ModelError(*_DAMAGED) from exc
    unpacked = sum(int(i.file_size) for i in infos)
    if unpacked > max(4 * max_bytes, 64 * 1024 * 1024):
        size, _ = size_and_limit(unpacked, max_bytes)
        raise ModelError(
            f"The model file claims to unpack to {size}, far more than any credit-risk model; "
            "RiskPrune will not unpack it (this is how decompression bombs fill a server's memory).",
            "Upload the TorchScript file written by torch.jit.save (it is stored uncompressed).",
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise ModelError(
            "The model file is password-protected (an encrypted zip).",
            "Upload the TorchScript file exactly as torch.jit.save wrote it.",
        )
    names = [i.filename for i in infos]
    try:
        bad = zf.testzip()
    except Exception as exc:  # unsupported compression, truncated members, ...
        raise ModelError(*_DAMAGED) from exc
    if bad is not None:
        raise ModelError("The model file is damaged (a checksum does not match).", "Upload the complete file again.")
    if not any(_is_code(n) for n in names) or not any(n.endswith("constants.pkl") for n in names):
        _refuse_non_torchscript(data, names)
    _check_code(zf)
    extra = {SCHEMA_FILE: ""}
    try:
        scripted = torch.jit.load(io.BytesIO(data), map_location="cpu", _extra_files=extra)
    except Exception as exc:  # the JIT raises RuntimeError and friends on anything odd
        lines = str(exc).strip().splitlines()
        detail = f": {lines[0][:160]}" if lines else ""
        raise ModelError(
            "The TorchScript file could not be loaded (it is damaged, was edited by hand, or "
            f"comes from an incompatible PyTorch version{detail}).",
            "Re-export it with torch.jit.script(model).save('model.pt') on PyTorch 2.x.",
        ) from exc
    scripted.eval()
    schema = FeatureSchema.from_json(extra[SCHEMA_FILE]) if extra[SCHEMA_FILE] else None
    layers = describe_layers(scripted)
    if not any(l.kind in _WEIGHT_KINDS for l in layers):
        raise ModelError(
            "The model has no Linear layer, no Embedding and no attention layer, so there is nothing RiskPrune can prune.",
            "RiskPrune prunes tabular networks (MLPs, embedding models, transformers) built from nn.Linear, "
            "nn.Embedding and nn.MultiheadAttention layers.",
        )
    n_inputs = len(schema.input_names) if schema is not None else None
    eager, note, hint = None, "no eager twin yet: the model is checked on the data's rows when it is bound", None
    width = _chain_width(scripted)
    if width is not None and not _may_loop(scripted):
        eager, note = rebuild_eager(scripted, width)
        hint = structural_output_hint(eager)
        if eager is not None:
            if n_inputs is not None and n_inputs != width:
                raise ModelError(
                    f"The embedded schema describes {n_inputs} inputs but the model runs on {width}.",
                    "Re-export the model with the schema it was trained with.",
                )
            n_inputs = width
    return LoadedModel(
        scripted=scripted,
        eager=eager,
        schema=schema,
        n_inputs=n_inputs,
        layers=tuple(layers),
        file_bytes=len(data),
        content_hash=sha256_hex(data),
        name=name,
        structure_note=note,
        output_hint=hint,
        twin_kind="chain" if eager is not None else "",
    )


_WEIGHT_KINDS = ("Linear", "NonDynamicallyQuantizableLinear", "Embedding", "MultiheadAttention")


def _chain_width(scripted: nn.Module) -> int | None:
    """The width a plain chain would take: its input selector's, else its first Linear's.

    Only a candidate: the chain twin is accepted once the model really runs at that width
    (``rebuild_eager`` verifies it on random rows), so the width is probed, not assumed.
    """
    for module in scripted.modules():
        if list(module.children()):
            continue
        kind = kind_of(module)
        if kind not in LAYER_BUILDERS:
            if elementwise_candidate(module):  # preprocessing in front, e.g. (x − mean) / std
                continue
            return None
        if kind == "SelectInputs":
            return int(module.n_inputs)
        if kind == "Linear":
            return int(module.weight.shape[1])
    return None


def _may_loop(scripted: nn.Module) -> bool:
    """True when a forward pass could run unboundedly (a loop in any container's code).

    Such a model is only ever run first in the time-limited child process of ``core.model.probe``.
    """
    for module in scripted.modules():
        if not list(module.children()):
            continue
        try:
            graph = module._c._get_method("forward").graph
        except (RuntimeError, AttributeError):
            continue
        if _graph_has(graph, ("prim::Loop", "prim::CallFunction")):
            return True
    return False


def _graph_has(block, kinds: tuple[str, ...]) -> bool:
    for node in block.nodes():
        if node.kind() in kinds:
            return True
        if any(_graph_has(b, kinds) for b in node.blocks()):
            return True
    return False


_DESCRIBED = set(LAYER_BUILDERS) | {"Linear", "NonDynamicallyQuantizableLinear", "Embedding", "LayerNorm",
                                    "MultiheadAttention", "TransformerEncoderLayer", "PReLU"}


def describe_layers(module: nn.Module) -> list[LayerInfo]:
    """Standard layers in module order (custom modules are described by the layers inside them).

    ``in_features``/``out_features`` are a Linear's matrix sides and an Embedding's (codes,
    dimensions); parameters count the layer's own tensors (a TransformerEncoderLayer's are listed
    under its attention, feed-forward and norm layers).
    """
    out = []
    for name, m in module.named_modules():
        kind = kind_of(m)
        if kind not in _DESCRIBED:
            continue
        weight = getattr(m, "weight", None)
        in_f = out_f = None
        if kind in ("Linear", "NonDynamicallyQuantizableLinear") and weight is not None:
            out_f, in_f = int(weight.shape[0]), int(weight.shape[1])
        elif kind == "Embedding" and weight is not None:
            in_f, out_f = int(weight.shape[0]), int(weight.shape[1])
        elif kind == "MultiheadAttention":
            w = getattr(m, "in_proj_weight", None)
            in_f = out_f = int(getattr(m, "embed_dim", w.shape[1] if w is not None else 0))
        n_params = sum(int(p.numel()) for p in m.parameters(recurse=False))
        out.append(LayerInfo(name or "(root)", kind, in_f, out_f, n_params))
    return out
