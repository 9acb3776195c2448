"""Which columns the Governance page and the report segment by, unless the user picks others."""
from __future__ import annotations

import pandas as pd

from core.workspace import Workspace

# Characteristics fair-lending reviews ask about, as the sample names them.
SAMPLE_SEGMENTS = ("age_in_years", "personal_status_and_sex", "foreign_worker", "housing")
MAX_DEFAULT_GROUPS = 12


def segment_candidates(ws: Workspace) -> list[str]:
    return [c for c in ws.data.frame.columns if c != ws.data.target]


def default_segment_columns(ws: Workspace) -> list[str]:
    """The sample's protected-characteristic proxies, else up to three short categorical columns."""
    frame, candidates = ws.data.frame, segment_candidates(ws)
    chosen = [c for c in SAMPLE_SEGMENTS if c in candidates]
    if chosen:
        return chosen
    return [c for c in candidates
            if not pd.api.types.is_numeric_dtype(frame[c]) and 1 < frame[c].nunique() <= MAX_DEFAULT_GROUPS][:3]
