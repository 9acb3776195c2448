"""Layers RiskPrune itself adds to pruned networks (all scriptable, all standard-library torch)."""
from __future__ import annotations

import torch
from torch import nn


class SelectInputs(nn.Module):
    """Keeps only the model inputs still used after input-feature pruning.

    The pruned model keeps the original input interface (same schema, same columns in), so it is a
    drop-in replacement; the dropped inputs are physically gone from the first layer's weights and
    their data no longer needs to be sourced.
    """

    def __init__(self, keep: torch.Tensor, n_inputs: int) -> None:
        super().__init__()
        self.n_inputs = int(n_inputs)
        self.register_buffer("index", keep.to(torch.long).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.index)

    def selection_matrix(self) -> torch.Tensor:
        """The (kept × all inputs) 0/1 matrix this layer multiplies by: its Jacobian."""
        m = torch.zeros(len(self.index), self.n_inputs, dtype=torch.float64)
        m[torch.arange(len(self.index)), self.index] = 1.0
        return m
