"""Seed stability: would another fine-tuning seed have given another model?

Fine-tuning is stochastic (batch order, dropout). A validator cannot judge one fine-tuned model
without knowing how much a second run would differ: the EBA follow-up report on machine learning
for IRB models (EBA/REP/2023/28) lists the stability of results among the overfitting and
robustness checks of complex models, and PRA SS1/23 (principle 4, model validation) expects the
sensitivity of outcomes to modelling choices to be understood. The pruned model is fine-tuned again
with k seeds (default 5, the shipped seed among them) — same pruning, same epochs, same rows — and
each is judged on the same evaluation rows at the same cutoff; the spread of AUC, KS, score PSI
and flipped decisions is the run-to-run noise of the procedure. The metrics are ``core.metrics``'s
(``compare``), through the memoised ``prune_workspace`` / ``compare_workspace``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.errors import SpecError
from core.metrics.decisions import DecisionRule
from core.progress import Progress, report
from core.workspace.binding import Workspace
from core.workspace.operations import Setting, as_setting, compare_workspace, prune_workspace

DEFAULT_SEEDS = 5
MAX_SEEDS = 20
STABILITY_METRICS = (("auc", "AUC"), ("ks", "KS"), ("psi", "Score PSI vs original"), ("flips", "Flipped decisions"),
                     ("flip_share", "Share of decisions flipped"))


def stability_seeds(shipped: int, k: int = DEFAULT_SEEDS) -> tuple[int, ...]:
    """k seeds that include the shipped one: the shipped seed and the smallest other non-negative seeds, in order."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= int(k) <= MAX_SEEDS:
        raise SpecError(f"Seed stability needs between 2 and {MAX_SEEDS} seeds (got {k!r}).", f"Use the default {DEFAULT_SEEDS}.")
    shipped = int(shipped)
    others = [s for s in range(int(k)) if s != shipped][: int(k) - 1]
    return tuple(sorted([shipped, *others]))


@dataclass(frozen=True, eq=False)
class SeedStability:
    """The fine-tuned model re-run with other seeds: one row per seed, and the spread."""

    shipped_seed: int
    seeds: tuple[int, ...]
    table: pd.DataFrame = field(repr=False)  # seed, shipped, auc, ks, psi, flips, flip_share, delta_auc, delta_ks
    description: str = ""

    @property
    def shipped(self) -> pd.Series:
        return self.table.loc[self.table["shipped"]].iloc[0]

    def summary_frame(self) -> pd.DataFrame:
        """One row per metric: mean, minimum, maximum, spread (max − min) over the seeds, and the shipped seed's value."""
        t = self.table
        rows = []
        for key, label in STABILITY_METRICS:
            v = t[key].to_numpy(dtype=np.float64)
            rows.append({"metric": key, "label": label, "mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
                         "spread": float(v.max() - v.min()), "shipped": float(self.shipped[key])})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def sentence(self) -> str:
        s = self.summary_frame().set_index("metric")
        rank = int((self.table["auc"] > self.shipped["auc"]).sum()) + 1
        return (f"Over {len(self.seeds)} fine-tuning seeds ({', '.join(map(str, self.seeds))}) AUC ranges "
                f"{s.loc['auc', 'min']:.4f}–{s.loc['auc', 'max']:.4f} (spread {s.loc['auc', 'spread']:.4f}), KS "
                f"{s.loc['ks', 'min']:.4f}–{s.loc['ks', 'max']:.4f}, score PSI {s.loc['psi', 'min']:.4f}–{s.loc['psi', 'max']:.4f} "
                f"and flipped decisions {int(s.loc['flips', 'min'])}–{int(s.loc['flips', 'max'])}; the shipped model is seed "
                f"{self.shipped_seed} (AUC rank {rank} of {len(self.seeds)}).")

    def to_dict(self) -> dict:
        return {"shipped_seed": self.shipped_seed, "seeds": list(self.seeds), "description": self.description,
                "summary": self.summary_frame().to_dict(orient="records"), "per_seed": self.table.to_dict(orient="records")}


def seed_stability(ws: Workspace, setting: Setting, rule: DecisionRule = DecisionRule(), *, seeds: tuple[int, ...] | None = None,
                   k: int = DEFAULT_SEEDS, progress: Progress | None = None) -> SeedStability:
    """Fine-tune the setting's pruned model once per seed and measure each against the original.

    ``ws`` must be the setting's evaluation workspace (``evaluation_workspace``). Only the
    fine-tuning seed changes (pruning, epochs, learning rate and rows stay), and each model goes
    through ``prune_workspace`` so the shipped one — and any seed a page already ran — is reused.
    """
    setting = as_setting(setting)
    ft = setting.fine_tune
    if ft is None:
        raise SpecError("Seed stability needs a fine-tuned model; this setting is not fine-tuned.",
                        "Fine-tune the pruned model first (Prune page, or --fine-tune-epochs).")
    seeds = stability_seeds(ft.seed, k) if seeds is None else tuple(sorted({int(s) for s in seeds} | {int(ft.seed)}))
    if len(seeds) > MAX_SEEDS:
        raise SpecError(f"{len(seeds)} seeds are too many for a stability check.", f"Use at most {MAX_SEEDS}.")
    rows = []
    for i, s in enumerate(seeds):
        report(progress, i, len(seeds), f"fine-tuning with seed {s} ({i + 1} of {len(seeds)})")
        pm = prune_workspace(ws, replace(setting, fine_tune=replace(ft, seed=s)))
        c = compare_workspace(ws, pm, rule)
        rows.append({"seed": s, "shipped": s == ft.seed, "auc": c.pruned.auc, "ks": c.pruned.ks, "psi": float(c.psi.value),
                     "flips": int(c.flips.count), "flip_share": float(c.flips.share), "delta_auc": c.delta("auc"),
                     "delta_ks": c.delta("ks"), "brier": c.pruned.brier})
    report(progress, len(seeds), len(seeds), "seed stability done")
    desc = (f"{setting.prune.label} at {setting.prune.ratio:.0%} (pruning seed {setting.prune.seed}), fine-tuned {ft.epochs} "
            f"epochs at learning rate {ft.learning_rate} on {len(ws.train_idx):,} training rows with each seed")
    return SeedStability(int(ft.seed), seeds, pd.DataFrame(rows), desc)
