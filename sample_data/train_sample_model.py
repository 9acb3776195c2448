"""Train the sample credit model shipped with RiskPrune (re-runnable, seeded).

German Credit (1,000 applicants, 30 % bad) -> stratified 60/20/20 train/validation/test split ->
a small tabular MLP with BatchNorm and Dropout, early-stopped on validation AUC, evaluated once on
the held-out test split. Saved as TorchScript with its feature schema embedded, so the app can feed
it raw CSV columns. Run:  python sample_data/train_sample_model.py
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.data import FeatureSchema, encode_target, read_table, stratified_split
from core.files import atomic_write_bytes
from core.metrics import risk_metrics
from core.model import model_to_bytes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data" / "german_credit.csv"
OUT = ROOT / "sample_data" / "german_credit_mlp.pt"
TARGET, BAD = "creditability", "bad"
SPLIT_SEED, TRAIN_SEED = 42, 7
MAX_EPOCHS, PATIENCE, BATCH = 300, 25, 64


def build_mlp(n_inputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_inputs, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(32, 1),
    )


def auc(model: nn.Module, X: torch.Tensor, y: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(X)).squeeze(1).double().numpy()
    return risk_metrics(y, scores, cutoff=0.5).auc


def main() -> dict:
    torch.manual_seed(TRAIN_SEED)
    torch.use_deterministic_algorithms(True)
    frame = read_table(DATA.read_bytes(), DATA.name).frame
    y = encode_target(frame, TARGET, BAD)
    split = stratified_split(y, SPLIT_SEED)
    columns = [c for c in frame.columns if c != TARGET]
    train = frame.iloc[split["train"]]
    schema = FeatureSchema.fit(train, columns, target=TARGET, bad_value=BAD, split_seed=SPLIT_SEED)
    X = torch.from_numpy(schema.transform(frame))
    Xtr, Xva, Xte = (X[split[k]] for k in ("train", "validation", "test"))
    ytr = torch.from_numpy(y[split["train"]].astype("float32"))

    model = build_mlp(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(TRAIN_SEED)
    best, best_state, best_epoch, waited = -1.0, None, 0, 0
    for epoch in range(MAX_EPOCHS):
        model.train()
        order = torch.randperm(len(Xtr), generator=gen)
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            if len(idx) < 2:  # BatchNorm needs two rows
                continue
            opt.zero_grad()
            loss_fn(model(Xtr[idx]).squeeze(1), ytr[idx]).backward()
            opt.step()
        val_auc = auc(model, Xva, y[split["validation"]])
        if val_auc > best + 1e-4:
            best, best_epoch, waited = val_auc, epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= PATIENCE:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        test_scores = torch.sigmoid(model(Xte)).squeeze(1).double().numpy()
    test = risk_metrics(y[split["test"]], test_scores, cutoff=0.5)
    result = {
        "data_file": DATA.name, "data_sha256": hashlib.sha256(DATA.read_bytes()).hexdigest(),
        "split_seed": SPLIT_SEED, "train_seed": TRAIN_SEED, "split": "stratified 60/20/20",
        "best_epoch": best_epoch + 1, "validation_auc": round(best, 6),
        "test_auc": test.auc, "test_gini": test.gini, "test_ks": test.ks,
        "n_train": len(split["train"]), "n_validation": len(split["validation"]), "n_test": len(split["test"]),
    }
    schema = FeatureSchema(schema.features, TARGET, BAD, SPLIT_SEED, extra={"training": result, "name": "German Credit MLP"})
    atomic_write_bytes(OUT, model_to_bytes(model, schema))
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
