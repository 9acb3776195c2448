"""Shared fixtures: repo root on sys.path, the sample files, a folder for test artefacts."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "test-artifacts"
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
