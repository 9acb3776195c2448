"""Models and datasets the project did not make: built on the fly for page and browser tests.

A schema-less TorchScript MLP trained for a few seeded epochs on a synthetic loan book whose
columns come in a different order than the model's inputs, with a yes/no target, so uploads
exercise the column mapping, target choice and output detection the sample never needs.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import torch
from torch import nn

FEATURES = ["income", "debt_ratio", "utilisation", "months_on_book", "late_payments", "loan_amount"]
TARGET = "defaulted"


def synthetic_book(n_rows: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Applicants with a known default mechanism; target 'yes'/'no', an ID column and a text column."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, len(FEATURES)))
    logit = -1.2 + 1.1 * X[:, 1] + 0.9 * X[:, 2] - 0.7 * X[:, 0] + 0.8 * X[:, 4] + 0.3 * X[:, 1] * X[:, 2]
    bad = rng.random(n_rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["loan_amount"] = np.round(5000 + 2000 * np.abs(frame["loan_amount"]), 0)
    frame.insert(0, "applicant_id", np.arange(100000, 100000 + n_rows))
    frame["region"] = rng.choice(["north", "south", "east"], n_rows)
    frame[TARGET] = np.where(bad, "yes", "no")
    # columns deliberately not in model input order
    return frame[["applicant_id", TARGET, "region", "loan_amount", *FEATURES[:-1][::-1]]]


def model_columns() -> list[str]:
    """The model's inputs, in the order it was trained on."""
    return FEATURES[:-1]


def trained_mlp(frame: pd.DataFrame, hidden: tuple[int, ...] = (24, 12), two_class: bool = False, seed: int = 0,
                epochs: int = 60) -> torch.jit.ScriptModule:
    torch.manual_seed(seed)
    cols = model_columns()
    X = torch.tensor(frame[cols].to_numpy(np.float32))
    y = torch.tensor((frame[TARGET] == "yes").to_numpy(np.int64))
    layers: list[nn.Module] = []
    width = len(cols)
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 2 if two_class else 1))
    net = nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(epochs):
        opt.zero_grad()
        out = net(X)
        loss = (nn.functional.cross_entropy(out, y) if two_class
                else nn.functional.binary_cross_entropy_with_logits(out[:, 0], y.float()))
        loss.backward()
        opt.step()
    return torch.jit.script(net.eval())


def model_bytes(module: torch.jit.ScriptModule) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    return buf.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")
