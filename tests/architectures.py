"""The tabular architectures credit teams ship, built and trained on the fly (seeded, seconds).

One synthetic loan book with 20 raw columns — 12 numeric and 8 categorical held as integer codes
— and a known default mechanism, and five small networks trained on it for a few seeded
full-batch epochs:

* ``embedding_mlp``: entity embeddings (one ``nn.Embedding`` per categorical code, cast with
  ``.long()`` inside ``forward``) concatenated with standardised numerics, then an MLP — the model
  of issue 15 that used to be refused with "expects 59 inputs";
* ``ft_transformer``: feature tokens (a weight and bias per numeric, an embedding per
  categorical), a CLS token and two ``nn.TransformerEncoderLayer`` s (Gorishniy et al. 2021);
* ``residual_mlp``: an input projection and two pre-norm residual blocks (BatchNorm, Linear,
  ReLU, Linear) added back onto the stream, so the stream's channels are coupled across blocks;
* ``tabm_like``: a shared first layer and k parallel heads whose outputs are averaged (the
  ensemble-of-heads idea of TabM, Gorishniy et al. 2024, in its simplest form);
* ``standardised_mlp``: a custom standardisation module (buffers mean and std) in front of an
  MLP, the way many exports carry their preprocessing.

Every model takes the same float tensor of the 20 raw columns (codes as whole numbers) and
returns one logit per applicant. ``scripted_bytes`` gives the TorchScript upload a user would
make. The data can also be had with text categories and a schema that maps them to codes.
"""
from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

NUMERIC = ["age", "income", "debt_ratio", "utilisation", "months_on_book", "late_payments", "loan_amount",
           "duration", "savings", "n_accounts", "inquiries", "employment_years"]
CATEGORICAL = {"purpose": 6, "housing": 3, "job": 4, "region": 5, "marital": 4, "product": 3, "channel": 3,
               "collateral": 4}
# the model's input order: numerics and codes interleaved, as exports from feature stores often are
COLUMNS = ["age", "purpose", "income", "housing", "debt_ratio", "utilisation", "job", "months_on_book", "region",
           "late_payments", "loan_amount", "marital", "duration", "savings", "product", "n_accounts", "channel",
           "inquiries", "collateral", "employment_years"]
TARGET = "default"
N_ROWS = 1200


def loan_book(n_rows: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """20 raw columns in ``COLUMNS`` order plus the 0/1 target; codes are whole numbers 0…k−1."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_rows, len(NUMERIC)))
    num = pd.DataFrame({
        "age": np.round(40 + 11 * z[:, 0]).clip(18, 80),
        "income": np.round(np.exp(10.3 + 0.45 * z[:, 1]), -1),
        "debt_ratio": (0.35 + 0.15 * z[:, 2]).clip(0, 1.5),
        "utilisation": (0.45 + 0.25 * z[:, 3]).clip(0, 1.2),
        "months_on_book": np.round(np.exp(3.2 + 0.6 * z[:, 4])),
        "late_payments": rng.poisson(0.6, n_rows).astype(float),
        "loan_amount": np.round(np.exp(9.0 + 0.7 * z[:, 6]), -1),
        "duration": rng.choice([6, 12, 18, 24, 36, 48, 60], n_rows).astype(float),
        "savings": np.round(np.exp(7.5 + 1.2 * z[:, 8]), -1),
        "n_accounts": rng.poisson(3.0, n_rows).astype(float),
        "inquiries": rng.poisson(1.0, n_rows).astype(float),
        "employment_years": np.round((6 + 5 * z[:, 11]).clip(0, 40)),
    })
    cats = {name: rng.integers(0, k, n_rows) for name, k in CATEGORICAL.items()}
    logit = (-1.1 + 1.3 * z[:, 2] + 0.9 * z[:, 3] - 0.6 * z[:, 1] + 0.5 * num["late_payments"] - 0.3 * z[:, 8]
             + 0.25 * z[:, 2] * z[:, 3] + np.array([0.0, 0.4, -0.3, 0.6, 0.1, -0.5])[cats["purpose"]]
             + np.array([0.3, -0.2, 0.1])[cats["housing"]] + 0.15 * cats["collateral"] - 0.2 * (cats["job"] == 2))
    bad = rng.random(n_rows) < 1 / (1 + np.exp(-logit))
    frame = pd.concat([num, pd.DataFrame({k: v.astype(float) for k, v in cats.items()})], axis=1)[COLUMNS]
    frame[TARGET] = bad.astype(int)
    return frame


def numeric_index() -> list[int]:
    return [COLUMNS.index(c) for c in NUMERIC]


def categorical_index() -> list[int]:
    return [COLUMNS.index(c) for c in CATEGORICAL]


def _stats(frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    num = frame[NUMERIC].to_numpy(np.float32)
    std = num.std(axis=0)
    return torch.from_numpy(num.mean(axis=0)), torch.from_numpy(np.where(std > 0, std, 1.0).astype(np.float32))


# --------------------------------------------------------------------------- the five architectures


class EntityEmbeddingMLP(nn.Module):
    """Standardised numerics + one embedding per categorical code → MLP (Guo & Berkhahn 2016)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, emb_dims: tuple[int, ...] = (4, 2, 3, 3, 2, 2, 2, 3),
                 hidden: tuple[int, int] = (48, 24)) -> None:
        super().__init__()
        self.num_idx: list[int] = numeric_index()
        self.cat_idx: list[int] = categorical_index()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())
        self.emb = nn.ModuleList([nn.Embedding(k, d) for k, d in zip(CATEGORICAL.values(), emb_dims)])
        width = len(NUMERIC) + sum(emb_dims)
        self.mlp = nn.Sequential(nn.Linear(width, hidden[0]), nn.ReLU(), nn.Dropout(0.1),
                                 nn.Linear(hidden[0], hidden[1]), nn.ReLU(), nn.Linear(hidden[1], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [(x[:, self.num_idx] - self.mean) / self.std]
        for i, emb in enumerate(self.emb):
            parts.append(emb(x[:, self.cat_idx[i]].long()))
        return self.mlp(torch.cat(parts, 1))


class FTTransformer(nn.Module):
    """Feature tokenizer + CLS token + nn.TransformerEncoderLayer blocks (Gorishniy et al. 2021)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, d: int = 16, heads: int = 4, layers: int = 2,
                 ffn: int = 32) -> None:
        super().__init__()
        self.num_idx: list[int] = numeric_index()
        self.cat_idx: list[int] = categorical_index()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())
        self.num_weight = nn.Parameter(torch.randn(len(NUMERIC), d) * 0.4)
        self.num_bias = nn.Parameter(torch.zeros(len(NUMERIC), d))
        self.cat_emb = nn.ModuleList([nn.Embedding(k, d) for k in CATEGORICAL.values()])
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.1)
        self.enc = nn.ModuleList([
            nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(layers)
        ])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        num = (x[:, self.num_idx] - self.mean) / self.std
        tokens = [self.cls.expand(x.shape[0], -1, -1), num.unsqueeze(-1) * self.num_weight + self.num_bias]
        for i, emb in enumerate(self.cat_emb):
            tokens.append(emb(x[:, self.cat_idx[i]].long()).unsqueeze(1))
        h = torch.cat(tokens, 1)
        for layer in self.enc:
            h = layer(h)
        return self.head(torch.relu(self.norm(h[:, 0])))


class ResidualBlock(nn.Module):
    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(d)
        self.fc1 = nn.Linear(d, hidden)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(0.1)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.drop(self.act(self.fc1(self.norm(x)))))


class ResidualMLP(nn.Module):
    """Input projection, pre-norm residual blocks, ReLU head (the ResNet baseline of Gorishniy et al. 2021)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, d: int = 24, hidden: int = 40, blocks: int = 2) -> None:
        super().__init__()
        self.num_idx: list[int] = numeric_index()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())
        self.inp = nn.Linear(len(COLUMNS), d)
        self.blocks = nn.ModuleList([ResidualBlock(d, hidden) for _ in range(blocks)])
        self.head = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x.clone()
        z[:, self.num_idx] = (x[:, self.num_idx] - self.mean) / self.std
        h = self.inp(z)
        for block in self.blocks:
            h = block(h)
        return self.head(torch.relu(h))


class TabMLike(nn.Module):
    """A shared layer and k parallel heads, averaged (the ensemble idea of TabM, Gorishniy et al. 2024)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, k: int = 4, d: int = 32, hidden: int = 16) -> None:
        super().__init__()
        self.num_idx: list[int] = numeric_index()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())
        self.shared = nn.Sequential(nn.Linear(len(COLUMNS), d), nn.ReLU())
        self.heads = nn.ModuleList([nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 1)) for _ in range(k)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x.clone()
        z[:, self.num_idx] = (x[:, self.num_idx] - self.mean) / self.std
        h = self.shared(z)
        return torch.stack([head(h) for head in self.heads], 0).mean(0)


class Standardise(nn.Module):
    """(x − mean) / std with training statistics as buffers: preprocessing carried inside the model."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def standardised_mlp(mean_all: torch.Tensor, std_all: torch.Tensor) -> nn.Module:
    return nn.Sequential(Standardise(mean_all, std_all), nn.Linear(len(COLUMNS), 32), nn.ReLU(),
                         nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))


# --------------------------------------------------------------------------- building and training


def _all_stats(frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    X = frame[COLUMNS].to_numpy(np.float32)
    std = X.std(axis=0)
    return torch.from_numpy(X.mean(axis=0)), torch.from_numpy(np.where(std > 0, std, 1.0).astype(np.float32))


ARCHITECTURES: dict[str, Callable[[pd.DataFrame], nn.Module]] = {
    "embedding_mlp": lambda f: EntityEmbeddingMLP(*_stats(f)),
    "ft_transformer": lambda f: FTTransformer(*_stats(f)),
    "residual_mlp": lambda f: ResidualMLP(*_stats(f)),
    "tabm_like": lambda f: TabMLike(*_stats(f)),
    "standardised_mlp": lambda f: standardised_mlp(*_all_stats(f)),
}
EPOCHS = {"embedding_mlp": 30, "ft_transformer": 20, "residual_mlp": 50, "tabm_like": 60, "standardised_mlp": 60}
TRAIN_ROWS = {"ft_transformer": 500}  # attention is the slow one on a 2-core machine: fewer rows, fewer epochs


def train(name: str, frame: pd.DataFrame, seed: int = 0, epochs: int | None = None) -> nn.Module:
    """Build architecture ``name`` and fit it full-batch with Adam for a few seeded epochs; eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ARCHITECTURES[name](frame)
        rows = frame.iloc[: TRAIN_ROWS.get(name, len(frame))]
        X = torch.from_numpy(rows[COLUMNS].to_numpy(np.float32))
        y = torch.from_numpy(rows[TARGET].to_numpy(np.float32))
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
        loss_fn = nn.BCEWithLogitsLoss()
        model.train()
        for _ in range(epochs if epochs is not None else EPOCHS[name]):
            opt.zero_grad()
            loss_fn(model(X).reshape(-1), y).backward()
            opt.step()
    return model.eval()


def scripted_bytes(module: nn.Module) -> bytes:
    """What a user uploads: ``torch.jit.script(model).save(...)`` (no schema embedded)."""
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(module.eval()), buf)
    return buf.getvalue()


def inputs(frame: pd.DataFrame) -> np.ndarray:
    return frame[COLUMNS].to_numpy(np.float32)


# --------------------------------------------------------------------------- text categories and a schema


LABELS = {name: [f"{name}_{chr(ord('a') + j)}" for j in range(k)] for name, k in CATEGORICAL.items()}


def loan_book_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The same applicants with categories as text labels (what a bank's CSV holds)."""
    out = frame.copy()
    for name in CATEGORICAL:
        out[name] = np.asarray(LABELS[name], dtype=object)[frame[name].to_numpy(int)]
    return out
