"""What one forward pass costs: multiply-adds counted while the model runs on one applicant.

Counted under ``torch.utils.flop_counter.FlopCounterMode`` (matrix products as they run, so a
transformer's Linear layers count once per token and attention's QKᵀ and weighted sum count too),
with gradients enabled so that ``nn.TransformerEncoderLayer`` takes its decomposed path rather
than the fused kernel the counter cannot see. Used for the honest size table and to decide how
many model evaluations an explanation can afford.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn


def _sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of CPU scaled-dot-product attention: QKᵀ and the weighted sum of V (2 per multiply-add)."""
    b, h, q_len, d = query_shape
    s_len, dv = key_shape[-2], value_shape[-1]
    return 2 * b * h * q_len * s_len * d + 2 * b * h * q_len * s_len * dv


def counted_multiply_adds(module: nn.Module, row: np.ndarray) -> int | None:
    """Multiply-adds of one forward pass on ``row`` (one applicant), or None if it cannot be counted."""
    from torch.utils.flop_counter import FlopCounterMode

    mapping = {}
    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if op is not None:
        mapping[op.default] = _sdpa_flops
    x = torch.from_numpy(np.ascontiguousarray(np.asarray(row, dtype=np.float32).reshape(1, -1))).requires_grad_(True)
    counter = FlopCounterMode(display=False, custom_mapping=mapping)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad(), counter:
            warnings.simplefilter("ignore")
            module.eval()(x)
    except Exception:
        return None
    return int(counter.get_total_flops() // 2)
