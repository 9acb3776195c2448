"""shap's own explainers as fallbacks for networks the fast exact path cannot walk."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from torch import nn

from core.errors import ExplainError
from core.explain.deepshap import UnsupportedNetwork, build_chain
from core.model.eager import rebuild_eager
from core.model.outputs import predict_logit
from core.progress import report

DEFAULT_PERMUTATION_EVALS = 500  # shap's own default; raised to 2·M + 1 when M is larger
_ADDITIVITY_TOL = 1e-4  # DeepExplainer results further off than this (× output scale) are rejected


class NotApplicable(Exception):
    """An explainer cannot handle this model; the message says why (shown as a note)."""


def fast_chain(module: nn.Module, kind: str, n_inputs: int):
    """The fast path's view of the model; TorchScript chains go through their verified eager twin."""
    if isinstance(module, torch.jit.ScriptModule):
        eager, note = rebuild_eager(module, n_inputs)
        if eager is None:
            raise UnsupportedNetwork(note)
        module = eager
    return build_chain(module, kind)


class _LogitHead(nn.Module):
    """Eager wrapper giving shap.DeepExplainer an (N, 1) log-odds output (it fails on 1-D outputs)."""

    def __init__(self, body: nn.Module, two_class: bool) -> None:
        super().__init__()
        self.body = body
        self.diff = None
        if two_class:  # z1 − z0 as a Linear layer, which DeepExplainer passes through linearly
            self.diff = nn.Linear(2, 1, bias=False)
            with torch.no_grad():
                self.diff.weight.copy_(torch.tensor([[-1.0, 1.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x).reshape(x.shape[0], -1)
        return self.diff(out) if self.diff is not None else out


def shap_deep(module, X, background, kind, progress, chunk: int = 50):
    if isinstance(module, torch.jit.ScriptModule):
        raise NotApplicable("TorchScript modules cannot carry the hooks it needs")
    if kind not in ("logit", "two_class_logits"):
        raise NotApplicable("a probability output cannot be turned into a logit inside this network")
    try:
        import shap
        from shap.explainers._deep.deep_pytorch import op_handler
    except ImportError as exc:  # pragma: no cover - shap is a hard dependency
        raise NotApplicable(f"shap could not be imported ({exc})") from exc
    unknown = sorted({type(l).__name__ for l in module.modules() if not list(l.children())} - set(op_handler))
    if unknown:
        raise NotApplicable(f"it does not support layer type(s) {', '.join(unknown)}")
    parts = []
    try:
        # autograd must work even when the caller runs under inference_mode / no_grad
        with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
            warnings.simplefilter("ignore")
            head = _LogitHead(copy.deepcopy(module), kind == "two_class_logits").eval()  # hooks go on a copy
            xs = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            bt = torch.from_numpy(np.ascontiguousarray(background, dtype=np.float32))
            explainer = shap.DeepExplainer(head, bt)
            for start in range(0, len(X), chunk):
                vals = explainer.shap_values(xs[start:start + chunk], check_additivity=False)
                parts.append(np.asarray(vals, dtype=np.float64).reshape(-1, X.shape[1]))
                report(progress, min(len(X), start + chunk), len(X), "explaining applicants (shap.DeepExplainer)")
    except Exception as exc:  # shap raises shape/view errors on reused or in-place layers
        raise NotApplicable(f"it failed on this network ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from exc
    phi = np.concatenate(parts) if parts else np.zeros((0, X.shape[1]))
    f_x = predict_logit(module, X, kind)
    f_b = predict_logit(module, background, kind)
    base = float(f_b.mean())
    gap = np.abs(phi.sum(axis=1) - (f_x - base)).max() if len(X) else 0.0
    scale = max(1.0, float(np.abs(f_x - base).max()) if len(X) else 1.0)
    if gap > _ADDITIVITY_TOL * scale:
        raise NotApplicable(
            f"its values miss the model output by up to {gap:.2g} (the forward pass likely calls "
            "activations as functions or reuses a layer)"
        )
    return phi, f_x, base


def shap_permutation(module, X, background, kind, seed, max_evals, progress, chunk: int = 10):
    import shap

    m = X.shape[1]
    evals = max(int(max_evals or DEFAULT_PERMUTATION_EVALS), 2 * m + 1)
    logit = lambda Z: predict_logit(module, np.asarray(Z, dtype=np.float32), kind)  # noqa: E731
    state = np.random.get_state()  # shap seeds numpy's global generator: restore it afterwards
    parts, bases = [], []
    try:
        masker = shap.maskers.Independent(np.asarray(background, dtype=np.float64), max_samples=len(background))
        explainer = shap.PermutationExplainer(logit, masker, seed=int(seed))
        for start in range(0, len(X), chunk):
            out = explainer(np.asarray(X[start:start + chunk], dtype=np.float64), max_evals=evals, silent=True)
            parts.append(np.asarray(out.values, dtype=np.float64).reshape(-1, m))
            bases.append(np.asarray(out.base_values, dtype=np.float64).reshape(-1))
            report(progress, min(len(X), start + chunk), len(X), "explaining applicants (shap.PermutationExplainer)")
    except Exception as exc:
        raise ExplainError(
            f"The model could not be explained ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}).",
            "Check that the model scores these rows without errors.",
        ) from exc
    finally:
        np.random.set_state(state)
    phi = np.concatenate(parts) if parts else np.zeros((0, m))
    f_x = logit(X)
    base = float(logit(background).mean())
    return phi, f_x, base, evals
