"""Shared fixtures: the sample files, the sample model and workspace (built once per session), a folder for test artefacts."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ARTIFACTS = ROOT / "test-artifacts"
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sample_model():
    """The sample TorchScript model, loaded once (never mutated: pruning always works on copies)."""
    from core.model import load_model

    return load_model(SAMPLE_MODEL.read_bytes(), SAMPLE_MODEL.name)


@pytest.fixture(scope="session")
def sample_frame():
    """The sample CSV as the dashboard reads it (tests must copy before changing it)."""
    from core.data import read_table

    return read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame


@pytest.fixture(scope="session")
def sample_holdout(sample_model, sample_frame):
    """The sample bound as the dashboard binds it: its own training file, so the model's 200-row test split."""
    from core.hashing import sha256_hex
    from core.workspace import bind

    return bind(sample_model, sample_frame, sample_model.schema.target, sample_model.schema.bad_value,
                data_sha256=sha256_hex(SAMPLE_DATA.read_bytes()))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks: one intra-op thread avoids OpenMP spin-waits on the shared 2-core machine (same results).

    Modules opt in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

