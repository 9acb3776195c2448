"""Layers RiskPrune itself adds to pruned networks (all scriptable, all standard-library torch)."""
from __future__ import annotations

import torch
from torch import nn


class SelectInputs(nn.Module):
    """Keeps only the model inputs still used after input-feature pruning.

    In front of a pruned network it gives the in-app model the workspace's full input interface
    (every page scores the same columns for both models); the exported model is what follows it
    and takes only the kept columns (``PruneResult.shipped``). Older exports kept it in the file.
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


class FillInputs(nn.Module):
    """The pruned model's interface: only the kept columns come in; dropped ones are filled inside.

    Input-variable pruning on a network whose first layer cannot simply lose columns (embeddings,
    attention, residual streams, preprocessing in front) still removes the variables from what the
    model *reads*: the exported model takes fewer columns, and every dropped input is fed its
    documented reference value (training mean of a numeric, most frequent category or code of a
    categorical), the same constant for every applicant. Those data sources no longer need to be
    bought, validated or monitored; the weights that read them stay (use the layer's other
    methods to remove weights).
    """

    def __init__(self, inner: nn.Module, keep: torch.Tensor, fill: torch.Tensor) -> None:
        super().__init__()
        self.inner = inner
        self.n_inputs = int(fill.numel())
        self.register_buffer("keep", keep.to(torch.long).clone())
        self.register_buffer("fill", fill.to(torch.float32).reshape(-1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = self.fill.unsqueeze(0).repeat(x.shape[0], 1)
        full[:, self.keep] = x
        return self.inner(full)


class Standardize(nn.Module):
    """``(x − shift) / scale`` per input: preprocessing in front of a chain.

    An upload's own standardisation module (buffers only, elementwise arithmetic) is rebuilt as this
    layer, so the network stays a chain of standard layers: explained by the fast exact DeepSHAP
    path, compacted like any chain, exported and reloaded as a chain.
    """

    def __init__(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("shift", shift.to(torch.float32).reshape(-1).clone())
        self.register_buffer("scale", scale.to(torch.float32).reshape(-1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale
