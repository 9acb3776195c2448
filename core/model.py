"""Safe model loading, structure discovery and turning any output head into P(bad).

Only TorchScript is accepted from users: it carries the network without Python classes, so
loading it never runs arbitrary code the way unpickling a ``torch.save(model)`` file does. When
the scripted module tree is a plain chain of supported layers, an *eager* twin is rebuilt (and
checked output-for-output against the scripted original); the twin is what pruning can compact
and what the fast SHAP path can walk. Anything else stays scripted and can only be masked.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
from scipy import special
import torch
from torch import nn

from .errors import ModelError
from .files import size_and_limit
from .layers import SelectInputs
from .schema import SCHEMA_FILE, FeatureSchema

MAX_MODEL_BYTES = 100 * 1024 * 1024
OUTPUT_KINDS = ("logit", "probability", "two_class_logits", "two_class_probabilities")
OUTPUT_KIND_LABELS = {
    "logit": "one logit (P(bad) = sigmoid(output))",
    "probability": "one probability of bad",
    "two_class_logits": "two-class logits (P(bad) = softmax(output)[:, 1])",
    "two_class_probabilities": "two-class probabilities (P(bad) = column 1)",
}
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


@dataclass(frozen=True)
class OutputSpec:
    """What the model's output means and how it was decided (shown to the user)."""

    kind: str
    how: str

    @property
    def label(self) -> str:
        return OUTPUT_KIND_LABELS[self.kind]


@dataclass
class LoadedModel:
    """An uploaded model: the scripted original (never mutated) and, when possible, an eager twin."""

    scripted: torch.jit.ScriptModule
    eager: nn.Sequential | None
    schema: FeatureSchema | None
    n_inputs: int
    layers: tuple[LayerInfo, ...]
    file_bytes: int
    content_hash: str
    name: str = "model.pt"
    structure_note: str = ""
    output_hint: str | None = None
    extra_files: dict[str, str] = field(default_factory=dict)

    @property
    def module(self) -> nn.Module:
        """The module computations run on: the eager twin when there is one."""
        return self.eager if self.eager is not None else self.scripted

    @property
    def n_parameters(self) -> int:
        return int(sum(p.numel() for p in self.scripted.parameters()))


# --------------------------------------------------------------------------- loading


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    if len(data) == 0:
        raise ModelError("The model file is empty.", "Upload the TorchScript (.pt) file again.")
    if len(data) > max_bytes:
        size, cap = size_and_limit(len(data), max_bytes)
        raise ModelError(
            f"The model file is {size}, above the upload limit of {cap}.",
            "Credit-risk MLPs are far smaller; check that the right file was picked.",
        )
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
    linears = [l for l in layers if l.kind == "Linear"]
    if not linears:
        raise ModelError(
            "The model has no Linear layer, so there is nothing RiskPrune can prune.",
            "RiskPrune prunes fully connected (nn.Linear) networks such as tabular MLPs.",
        )
    n_inputs = _input_width(scripted, int(linears[0].in_features or 0))
    if schema is not None and len(schema.input_names) != n_inputs:
        raise ModelError(
            f"The embedded schema describes {len(schema.input_names)} inputs but the first layer "
            f"takes {n_inputs}.",
            "Re-export the model with the schema it was trained with.",
        )
    eager, note = rebuild_eager(scripted, n_inputs)
    return LoadedModel(
        scripted=scripted,
        eager=eager,
        schema=schema,
        n_inputs=n_inputs,
        layers=tuple(layers),
        file_bytes=len(data),
        content_hash=_sha256(data),
        name=name,
        structure_note=note,
        output_hint=_structural_output_hint(eager),
    )


def _input_width(scripted: nn.Module, first_linear_in: int) -> int:
    """Width of the model's input: the first Linear's, unless an input selector (left by
    input-feature pruning) sits in front of it and keeps the original interface."""
    for module in scripted.modules():
        kind = getattr(module, "original_name", type(module).__name__)
        if kind == "Linear":
            break
        if kind == "SelectInputs":
            return int(module.n_inputs)
    return first_linear_in


def describe_layers(module: nn.Module) -> list[LayerInfo]:
    out = []
    for name, m in module.named_modules():
        kind = getattr(m, "original_name", type(m).__name__)
        if kind in _BUILDERS or kind == "Linear":
            weight = getattr(m, "weight", None)
            in_f = out_f = None
            if kind == "Linear" and weight is not None:
                out_f, in_f = int(weight.shape[0]), int(weight.shape[1])
            n_params = sum(int(p.numel()) for p in m.parameters(recurse=False))
            out.append(LayerInfo(name or "(root)", kind, in_f, out_f, n_params))
    return out


# --------------------------------------------------------------------------- eager twin


def _linear(m) -> nn.Module:
    out_f, in_f = m.weight.shape
    bias = getattr(m, "bias", None)
    lin = nn.Linear(int(in_f), int(out_f), bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(m.weight)
        if bias is not None:
            lin.bias.copy_(bias)
    return lin


def _batchnorm(m) -> nn.Module:
    n = int(m.running_mean.shape[0]) if m.running_mean is not None else int(m.weight.shape[0])
    affine = getattr(m, "weight", None) is not None
    # Traced modules drop constants; defaults are safe because the twin is verified afterwards.
    bn = nn.BatchNorm1d(n, eps=float(getattr(m, "eps", 1e-5)), momentum=float(getattr(m, "momentum", 0.1) or 0.1), affine=affine)
    with torch.no_grad():
        if affine:
            bn.weight.copy_(m.weight)
            bn.bias.copy_(m.bias)
        if m.running_mean is not None:
            bn.running_mean.copy_(m.running_mean)
            bn.running_var.copy_(m.running_var)
    return bn


_BUILDERS = {
    "Linear": _linear,
    "BatchNorm1d": _batchnorm,
    "ReLU": lambda m: nn.ReLU(),
    "LeakyReLU": lambda m: nn.LeakyReLU(float(getattr(m, "negative_slope", 0.01))),
    "ELU": lambda m: nn.ELU(float(getattr(m, "alpha", 1.0))),
    "Tanh": lambda m: nn.Tanh(),
    "Sigmoid": lambda m: nn.Sigmoid(),
    "GELU": lambda m: nn.GELU(approximate=str(getattr(m, "approximate", "none"))),
    "SiLU": lambda m: nn.SiLU(),
    "Softplus": lambda m: nn.Softplus(float(getattr(m, "beta", 1.0)), float(getattr(m, "threshold", 20.0))),
    "Dropout": lambda m: nn.Dropout(float(getattr(m, "p", 0.5))),
    "Identity": lambda m: nn.Identity(),
    "SelectInputs": lambda m: SelectInputs(m.index, int(m.n_inputs)),
    "Softmax": lambda m: nn.Softmax(dim=int(getattr(m, "dim", -1) if getattr(m, "dim", None) is not None else -1)),
}
_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}


def rebuild_eager(scripted: nn.Module, n_inputs: int, seed: int = 0) -> tuple[nn.Sequential | None, str]:
    """Rebuild the scripted network as an eager Sequential when it is a plain chain of layers.

    The module tree alone cannot prove that ``forward`` is a chain (it could add a residual or
    reorder calls), so the rebuilt twin must reproduce the scripted outputs on random inputs.
    """
    leaves = []
    for name, m in scripted.named_modules():
        kind = getattr(m, "original_name", type(m).__name__)
        children = list(m.named_children())
        if children:
            continue
        if kind not in _BUILDERS:
            return None, f"layer '{name}' ({kind}) is not one RiskPrune can rebuild"
        try:
            leaves.append(_BUILDERS[kind](m))
        except (AttributeError, RuntimeError, TypeError) as exc:
            return None, f"layer '{name}' ({kind}) could not be read ({exc})"
    if not leaves:
        return None, "the model has no layers RiskPrune can rebuild"
    eager = nn.Sequential(*leaves).eval()
    gen = torch.Generator().manual_seed(seed)
    probe = torch.randn(64, n_inputs, generator=gen) * 2.0
    try:
        with torch.no_grad():
            a = scripted(probe).reshape(64, -1)
            b = eager(probe).reshape(64, -1)
    except Exception as exc:
        return None, f"a chain of its layers does not run ({str(exc).splitlines()[0][:80]})"
    if a.shape != b.shape or not torch.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True):
        return None, "its forward pass is not a plain chain of its layers (e.g. a residual connection)"
    return eager, "rebuilt as a chain of standard layers (outputs verified identical)"


def _structural_output_hint(eager: nn.Sequential | None) -> str | None:
    if eager is None:
        return None
    last = eager[-1]
    if isinstance(last, nn.Sigmoid):
        return "probability"
    if isinstance(last, nn.Softmax):
        return "two_class_probabilities"
    return None


# --------------------------------------------------------------------------- outputs


def raw_outputs(module: nn.Module, X: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
    """Forward pass in eval mode without gradients; always returns a 2-D float64 array (N, k)."""
    module.eval()
    outs = []
    with torch.inference_mode():
        for start in range(0, max(len(X), 1), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(X[start:start + batch_size], dtype=np.float32))
            out = module(xb)
            if not isinstance(out, torch.Tensor):
                raise ModelError(
                    "The model returns something other than a single tensor.",
                    "Export a model whose forward returns one tensor of scores.",
                )
            outs.append(out.detach().reshape(out.shape[0], -1).to(torch.float64).numpy())
    return np.concatenate(outs, axis=0) if outs else np.zeros((0, 1))


def detect_output_kind(raw: np.ndarray, hint: str | None = None) -> OutputSpec:
    """Decide what the outputs mean: structure first (a final Sigmoid/Softmax), then values."""
    if raw.ndim != 2 or raw.shape[1] not in (1, 2):
        width = raw.shape[1] if raw.ndim == 2 else "?"
        raise ModelError(
            f"The model returns {width} values per applicant; RiskPrune needs one score "
            "(a logit or probability of default) or two class scores.",
            "Export a binary default model (output shape (N,), (N, 1) or (N, 2)).",
        )
    finite = np.isfinite(raw)
    if not finite.all():
        n_bad = int((~finite.all(axis=1)).sum())
        raise ModelError(
            f"The model returns NaN or infinite scores for {n_bad} of {len(raw)} applicants.",
            "Check the model's weights and that the inputs are scaled the way it was trained.",
        )
    in_unit = bool(((raw >= 0) & (raw <= 1)).all())
    if raw.shape[1] == 1:
        if hint == "probability":
            return OutputSpec("probability", "the model ends with a Sigmoid layer")
        if in_unit and hint is None and len(raw) >= 20:
            return OutputSpec("probability", "every output lies between 0 and 1")
        return OutputSpec("logit", "outputs are unbounded real numbers (a logit)")
    if hint == "two_class_probabilities":
        return OutputSpec("two_class_probabilities", "the model ends with a Softmax layer")
    if in_unit and np.allclose(raw.sum(axis=1), 1.0, atol=1e-4):
        return OutputSpec("two_class_probabilities", "the two outputs are non-negative and sum to 1")
    return OutputSpec("two_class_logits", "two unbounded outputs (class logits); column 1 is bad")


def pbad_from_raw(raw: np.ndarray, kind: str) -> np.ndarray:
    """P(bad) in [0, 1] from raw outputs of the given kind (class 1 = bad for two outputs)."""
    if kind == "logit":
        return special.expit(raw[:, 0])  # no overflow warning for very negative logits
    if kind == "probability":
        return np.clip(raw[:, 0], 0.0, 1.0)
    if kind == "two_class_logits":
        z = raw - raw.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e[:, 1] / e.sum(axis=1)
    if kind == "two_class_probabilities":
        return np.clip(raw[:, 1] / raw.sum(axis=1), 0.0, 1.0)
    raise ModelError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")


def logit_from_raw(raw: np.ndarray, kind: str, eps: float = 1e-12) -> np.ndarray:
    """log(P(bad) / P(good)): the additive scale on which attributions are computed."""
    if kind == "logit":
        return raw[:, 0].copy()
    if kind == "two_class_logits":
        return raw[:, 1] - raw[:, 0]
    if kind == "probability":
        p = np.clip(raw[:, 0], eps, 1 - eps)
        return np.log(p) - np.log1p(-p)
    if kind == "two_class_probabilities":
        p = np.clip(raw, eps, None)
        return np.log(p[:, 1]) - np.log(p[:, 0])
    raise ModelError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")


def predict_pbad(module: nn.Module, X: np.ndarray, kind: str) -> np.ndarray:
    return pbad_from_raw(raw_outputs(module, X), kind)


def predict_logit(module: nn.Module, X: np.ndarray, kind: str) -> np.ndarray:
    return logit_from_raw(raw_outputs(module, X), kind)


def resolve_output(model: LoadedModel, X: np.ndarray, override: str | None = None) -> OutputSpec:
    """Detect the output kind on real rows; a user override wins but is still shape-checked."""
    if len(X) and X.shape[1] != model.n_inputs:
        raise ModelError(
            f"The model expects {model.n_inputs} inputs but the data has {X.shape[1]}.",
            "Select exactly the columns the model was trained on, in training order.",
        )
    try:
        raw = raw_outputs(model.scripted, X[: min(len(X), 2048)])
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"The model failed on the data ({str(exc).splitlines()[0][:160]}).",
            "Check that the model's input size and the selected columns match.",
        ) from exc
    spec = detect_output_kind(raw, model.output_hint)
    if override is not None and override != spec.kind:
        if override not in OUTPUT_KINDS:
            raise ModelError(f"Unknown output kind '{override}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")
        if (override.startswith("two_class")) != (raw.shape[1] == 2):
            raise ModelError(
                f"The model returns {raw.shape[1]} value(s) per applicant, which cannot be "
                f"{OUTPUT_KIND_LABELS[override]}.",
                "Pick an output kind that matches the model's output width.",
            )
        return OutputSpec(override, "set by the user")
    return spec


# --------------------------------------------------------------------------- saving


def model_to_bytes(module: nn.Module, schema: FeatureSchema | None = None, extra: dict[str, str] | None = None) -> bytes:
    """Serialise as TorchScript with the schema embedded, so the file is self-describing."""
    scripted = module if isinstance(module, torch.jit.ScriptModule) else torch.jit.script(module.eval())
    files = dict(extra or {})
    if schema is not None:
        files[SCHEMA_FILE] = schema.to_json()
    buf = io.BytesIO()
    torch.jit.save(scripted, buf, _extra_files=files)
    return buf.getvalue()


def module_hash(module: nn.Module) -> str:
    """Hash of a module's parameters and buffers: proves a model was not modified in place."""
    h = hashlib.sha256()
    for name, t in list(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
