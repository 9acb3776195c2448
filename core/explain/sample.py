"""Which applicants are explained and which form the background: seeded samples, one owner of the sizes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ExplainError

DEFAULT_ROWS = 500  # explained applicants: enough for stable mean |φ| ranks on credit data
DEFAULT_BACKGROUND = 100  # shap's documentation: 100 background rows is good, 1,000 very good


@dataclass(frozen=True, eq=False)
class ExplainSample:
    """Which rows of the evaluation data are explained and which form the background."""

    rows: np.ndarray
    background: np.ndarray
    seed: int
    n_available: int

    @property
    def key(self) -> str:
        """Names the rows themselves: two samples of equal sizes and seed (e.g. the policy's declined applicants
        and a random draw of as many) must never share a memoised attribution."""
        from core.hashing import digest

        rows = digest([np.ascontiguousarray(self.rows, dtype=np.int64), np.ascontiguousarray(self.background, dtype=np.int64)],
                      length=16)
        return f"sample|{self.seed}|{len(self.rows)}|{len(self.background)}|{self.n_available}|{rows}"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "role": ["explained"] * len(self.rows) + ["background"] * len(self.background),
            "row": np.concatenate([self.rows, self.background]).astype(np.int64),
        })


def draw_sample(
    n_available: int, n_rows: int = DEFAULT_ROWS, n_background: int = DEFAULT_BACKGROUND, seed: int = 0
) -> ExplainSample:
    """Seeded samples (without replacement, sorted) of rows to explain and background rows.

    The two draws use separate streams of the same seed, so asking for more explained rows keeps
    the background (and with it every base value) unchanged. They may overlap, like two
    independent samples of the same portfolio; an applicant identical to a background row simply
    contributes zero difference for that pair.
    """
    if n_available < 1:
        raise ExplainError("There are no rows to explain.", "Load an evaluation dataset first.")
    if n_rows < 1 or n_background < 1:
        raise ExplainError(
            "At least one explained row and one background row are needed.",
            f"Use e.g. {DEFAULT_ROWS} explained rows and {DEFAULT_BACKGROUND} background rows.",
        )
    seed = int(seed)
    pick = lambda stream, k: np.sort(  # noqa: E731
        np.random.default_rng([seed, stream]).choice(n_available, size=min(k, n_available), replace=False)
    ).astype(np.int64)
    return ExplainSample(rows=pick(0, n_rows), background=pick(1, n_background), seed=seed, n_available=int(n_available))


@dataclass(frozen=True)
class ExplainSettings:
    """How many applicants to explain, against how many background rows, with which seed.

    The one owner of the SHAP sample sizes: the Explain and Governance pages, the report and the
    CLI all start from these defaults.
    """

    rows: int = DEFAULT_ROWS
    background: int = DEFAULT_BACKGROUND
    seed: int = 0

    @property
    def key(self) -> str:
        return f"explain|{int(self.rows)}|{int(self.background)}|{int(self.seed)}"

    def draw(self, n_available: int) -> ExplainSample:
        return draw_sample(n_available, int(self.rows), int(self.background), int(self.seed))

    def to_dict(self) -> dict:
        return {"rows": int(self.rows), "background": int(self.background), "seed": int(self.seed)}
