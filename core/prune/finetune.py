"""Recovery fine-tuning of a pruned model with its masks held fixed.

Pruning removes capacity; a few epochs on the training rows often win back most of the lost
ranking power. The masks must survive training (a pruned weight that grows back would make the
reported sparsity a lie), so gradients of pruned weights are zeroed and the mask is re-applied
after every optimiser step. Training is seeded and runs inside a forked RNG, so it is
reproducible and leaves the caller's random state alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from core.errors import SpecError
from core.metrics._validation import as_labels
from core.model.outputs import logit_of_output
from core.progress import Progress, report
from core.prune.function import apply_masks
from core.prune.result import COMPACTED, PruneResult
from core.prune.size import measure_size
from core.prune.structure import copy_module


@dataclass(frozen=True)
class FineTuneSpec:
    """How a pruned model is re-trained: epochs, Adam learning rate, batch size, seed, weight decay."""

    epochs: int = 5
    learning_rate: float = 1e-3
    batch_size: int = 64
    seed: int = 0
    weight_decay: float = 0.0

    @property
    def key(self) -> str:
        return f"ft|{int(self.epochs)}|{float(self.learning_rate)!r}|{int(self.batch_size)}|{int(self.seed)}|{float(self.weight_decay)!r}"

    def to_dict(self) -> dict:
        return {"epochs": int(self.epochs), "learning_rate": float(self.learning_rate), "batch_size": int(self.batch_size),
                "seed": int(self.seed), "weight_decay": float(self.weight_decay)}

    def validate(self) -> None:
        if not (1 <= int(self.epochs) <= 500):
            raise SpecError(f"{self.epochs} fine-tuning epochs is out of range.", "Use between 1 and 500 epochs (5–20 is typical).")
        if not (0 < float(self.learning_rate) <= 1):
            raise SpecError(f"Learning rate {self.learning_rate} is out of range.", "Use a small value such as 0.001.")
        if int(self.batch_size) < 2:
            raise SpecError("The batch size must be at least 2.", "Use e.g. 64.")


def fine_tune(
    result: PruneResult,
    X_train: np.ndarray,
    y_train: np.ndarray,
    kind: str,
    spec: FineTuneSpec = FineTuneSpec(),
    progress: Progress | None = None,
) -> PruneResult:
    """A new result whose module is trained for ``spec.epochs`` on the rows; masks stay exact zeros."""
    spec.validate()
    X = np.asarray(X_train, dtype=np.float32)
    y = as_labels(y_train, len(X)).astype(np.float32)
    if X.ndim != 2 or len(X) < 2:
        raise SpecError("There are too few training rows to fine-tune on.", "Use a held-out split with training rows.")
    if not np.isfinite(X).all():
        raise SpecError("Some training inputs are missing or infinite, so fine-tuning would corrupt the weights.",
                        "Fix or drop the incomplete rows before fine-tuning.")
    module = copy_module(result.module)
    try:
        with torch.no_grad():
            logit_of_output(module.eval()(torch.from_numpy(X[:2])), kind)
    except SpecError:
        raise
    except Exception as exc:  # wrong number of columns and similar shape errors from the network
        raise SpecError(
            f"The training rows do not fit the model ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}).",
            "Fine-tune on rows prepared the same way as the evaluation rows.",
        ) from exc
    params = dict(module.named_parameters())
    masks = {n: m for n, m in result.masks.items() if n in params}
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = nn.BCEWithLogitsLoss()
    history: list[float] = []
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(spec.seed))
        gen = torch.Generator().manual_seed(int(spec.seed))
        opt = torch.optim.Adam(module.parameters(), lr=float(spec.learning_rate), weight_decay=float(spec.weight_decay))
        for epoch in range(int(spec.epochs)):
            module.train()
            order = torch.randperm(len(Xt), generator=gen)
            total, seen = 0.0, 0
            for start in range(0, len(order), int(spec.batch_size)):
                idx = order[start:start + int(spec.batch_size)]
                if len(idx) < 2:  # BatchNorm cannot train on one row
                    continue
                opt.zero_grad()
                loss = loss_fn(logit_of_output(module(Xt[idx]), kind), yt[idx])
                loss.backward()
                with torch.no_grad():
                    for name, m in masks.items():
                        if params[name].grad is not None:
                            params[name].grad.mul_(m.to(params[name].grad.dtype))
                opt.step()
                apply_masks(module, masks)
                total += float(loss.detach()) * len(idx)
                seen += len(idx)
            history.append(total / max(seen, 1))
            report(progress, epoch + 1, int(spec.epochs), f"epoch {epoch + 1}/{int(spec.epochs)}, training loss {history[-1]:.4f}")
    module.eval()
    info = {
        "epochs": int(spec.epochs), "learning_rate": float(spec.learning_rate), "batch_size": int(spec.batch_size),
        "seed": int(spec.seed), "weight_decay": float(spec.weight_decay), "rows": int(len(X)),
        "loss_history": [round(v, 6) for v in history], "seconds": round(time.perf_counter() - started, 3),
    }
    twin = None if result.state == COMPACTED else module
    tuned = replace(result, module=module, masked_module=twin, fine_tuned=info)
    return replace(tuned, size=measure_size(tuned.shipped, tuned.export_schema, tuned.inputs_for(X[:1])))
