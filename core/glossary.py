"""Plain words for every statistic and term the dashboard and the report use: one owner, one line each.

A credit officer reads "KS 0.41" or "PSI 0.12 — monitor" next to the one-line meaning and, where a
statistic has one, the reference a validator would cite. The pages pass ``help_text(key)`` as the
tooltip of their metrics; the report prints ``glossary_frame()`` as its Glossary section, so the
tooltip and the printed definition can never disagree.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from core.errors import SpecError
from core.metrics.stability import psi_bands_text


@dataclass(frozen=True)
class Term:
    """One entry: the term as printed, its meaning in one plain sentence, and a reference where one exists."""

    term: str
    plain: str
    reference: str = ""

    @property
    def help(self) -> str:
        """The tooltip text: meaning, then the reference."""
        return self.plain + (f" Reference: {self.reference}." if self.reference else "")


GLOSSARY: dict[str, Term] = {}  # filled below in reading order, keyed by a short name


def _add(key: str, term: str, plain: str, reference: str = "") -> None:
    GLOSSARY[key] = Term(term, plain, reference)


_add("auc", "AUC",
     "The chance that a randomly picked bad applicant gets a higher risk score than a randomly picked good one "
     "(0.5 = coin toss, 1 = perfect ranking).",
     "Hanley & McNeil (1982), Radiology 143(1)")
_add("gini", "Gini",
     "AUC rescaled to run from 0 (random) to 1 (perfect): Gini = 2 × AUC − 1, also called the accuracy ratio.",
     "Engelmann, Hayden & Tasche (2003), Risk 16(1)")
_add("ks", "KS",
     "The largest gap between the share of bads and the share of goods found below any score: how well one cutoff "
     "can separate them (0 to 1).",
     "Kolmogorov–Smirnov statistic; Siddiqi (2017), Intelligent Credit Scoring")
_add("psi", "PSI",
     f"Population stability index: how far one score distribution has moved from another, summed over 10 score bins "
     f"({psi_bands_text()}).",
     "Siddiqi (2017), ch. 14; Yurdakul & Naranjo (2020), J. Risk Model Validation 14(4)")
_add("brier", "Brier score",
     "The average squared gap between the predicted probability of default and what happened (0 or 1); lower is better.",
     "Brier (1950), Monthly Weather Review 78(1)")
_add("log_loss", "Log-loss",
     "The average penalty for confident wrong predictions of default; lower is better.")
_add("ece", "ECE",
     "Expected calibration error: the average gap between predicted and observed default rates over equal-sized "
     "groups of applicants.",
     "Naeini, Cooper & Hauskrecht (2015), AAAI")
_add("hosmer_lemeshow", "Hosmer–Lemeshow test",
     "Tests whether predicted and observed defaults agree across risk groups; a small p-value says they do not.",
     "Hosmer & Lemeshow (1980), Communications in Statistics A9(10)")
_add("spearman", "Spearman ρ",
     "Rank correlation: 1 means both lists put things in exactly the same order, 0 means the orders are unrelated.",
     "Spearman (1904), American Journal of Psychology 15(1)")
_add("kendall", "Kendall τ",
     "Rank agreement counted over pairs: the share of pairs both lists order the same way minus the share they order "
     "differently (τ-b, ties allowed).",
     "Kendall (1938), Biometrika 30(1/2)")
_add("top_k_overlap", "Top-k overlap",
     "The share of the original model's k most important variables that are also among the pruned model's k most "
     "important.")
_add("flips", "Flipped decisions",
     "Applicants who get a different decision (approve vs decline) from the pruned model than from the original at "
     "the same cutoff.")
_add("approval_rate", "Approval rate", "The share of applicants whose predicted probability of default is below the cutoff.")
_add("approved_bad_rate", "Bad rate of approved",
     "Among the approved applicants, the share who actually defaulted; undefined when nobody is approved.")
_add("air", "Adverse impact ratio",
     "A group's approval rate divided by the approval rate of the best-approved group in the same column; below 0.8 "
     "fails the four-fifths rule of thumb.",
     "29 CFR 1607.4(D) (four-fifths rule)")
_add("expected_loss", "Expected loss",
     "Probability of default × loss given default (LGD) × exposure at default (EAD), summed over the approved applicants.",
     "BCBS (2006), Basel II framework ¶272")
_add("lgd", "LGD", "Loss given default: the share of the exposure that is lost when an applicant defaults.",
     "BCBS (2006), Basel II framework ¶287 (45 % for senior unsecured claims)")
_add("logit", "Logit (log-odds)",
     "log(P(bad) / P(good)): the scale the network's last layer works on; SHAP values add up on this scale.")
_add("sparsity", "Sparsity", "The share of the original network's weights that pruning set to zero or removed.")
_add("masked", "Masked",
     "Removed weights are set to zero but stay stored: same file size and compute, only the predictions change.")
_add("compacted", "Compacted",
     "Removed neurons or inputs are physically deleted: fewer parameters, a smaller file and fewer multiply-adds.")
_add("shap", "SHAP value",
     "How much one variable pushed one applicant's score (log-odds) up or down against an average applicant; the "
     "values of an applicant add up to their score minus the average score.",
     "Lundberg & Lee (2017), NeurIPS")
_add("deepshap", "DeepSHAP",
     "An exact, fast way to compute SHAP values for neural networks, layer by layer (the rescale rule of DeepLIFT).",
     "Lundberg & Lee (2017), NeurIPS; Shrikumar et al. (2017), ICML")
_add("mean_abs_shap", "Mean |SHAP|",
     "A variable's global importance: the average size of its push on the score over the explained applicants.")
_add("importance_flag", "Flagged variable",
     "A variable whose share of importance changed by more than sampling noise and by a practical amount (see the "
     "rule stated with the table).")
_add("delong", "DeLong test",
     "A test of whether two AUCs measured on the same applicants differ by more than chance.",
     "DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44(3)")
_add("bootstrap_ci", "Bootstrap confidence interval",
     "The range a change would likely fall in on another sample: the same applicants are resampled with replacement "
     "many times and the change recomputed each time (paired, percentile).",
     "Efron & Tibshirani (1993), An Introduction to the Bootstrap")
_add("stratified_sample", "Stratified sample",
     "A random subset drawn separately from the good and the bad applicants, so it keeps the file's bad rate.")
_add("fine_tuning", "Fine-tuning",
     "A few more training passes of the pruned network on training rows, with removed weights held at zero, to win "
     "back accuracy.")
_add("score_alignment", "Score alignment",
     "A small monotone map after the pruned model that puts its scores back on the original's scale (or on observed "
     "default rates) without changing the ranking.",
     "Platt (1999); Zadrozny & Elkan (2002), KDD")
_add("cutoff", "Cutoff", "The probability of default at or above which an applicant is declined.")


def term(key: str) -> Term:
    """The entry for ``key`` (e.g. "auc", "psi"); a missing key is a programming error, raised at once."""
    try:
        return GLOSSARY[key]
    except KeyError:
        raise SpecError(f"The glossary has no term '{key}'.", f"Use one of {', '.join(GLOSSARY)}.") from None


def help_text(key: str) -> str:
    """The one-line meaning (and reference) of ``key``: the ``help=`` of a metric on a page."""
    return term(key).help


def glossary_frame(keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Term, meaning and reference, in glossary order (the report's Glossary section)."""
    entries = [term(k) for k in (keys if keys is not None else GLOSSARY)]
    return pd.DataFrame({"Term": [t.term for t in entries], "Meaning": [t.plain for t in entries],
                         "Reference": [t.reference or "—" for t in entries]})
