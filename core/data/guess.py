"""Guesses that save the first ten minutes with a new file: which column is the outcome, which one splits
training from evaluation rows, and which of its values marks the evaluation rows.

A wrong guess is worse than none: every number on every page is computed on it. German Credit
re-encoded for a neural network has 61 columns; its target ``default_flag`` is the 4th, and the
last column ``foreign_worker_yes`` is a standardised dummy that holds exactly two distinct
values after scaling (-0.196 and 5.10). "The last column with two values" picks the dummy and
reports a 96 % bad rate. So a column is proposed as the target only when

* it has exactly two distinct outcomes in the file (never one, never three or more), and
* its name says outcome (``default``, ``bad``, ``target``, ``label``, ``y``, ``loan_status``, …), or — when
  no name does — its two values look like a label (good/bad, yes/no, Y/N, true/false, 0/1) and
  no other column's values look equally like one.

Otherwise nothing is preselected and the user is asked to pick the target: pages then say so
instead of computing on a guess. Every guess carries its reason, shown next to the choice.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from core.data.columns import clean_name
from core.data.target import label_text, target_labels

# A name token that says "this is the outcome". Strong words say it on their own; weak ones
# (flag, class, status, y) also name ordinary variables, and one-hot dummies append a category to
# them (``personal_status_single``, ``status_of_existing_checking_account_< 0 DM``), so a weak word
# counts only as the name's last word (``loan_status``) or when every word is an outcome word.
STRONG_WORDS = frozenset({
    "default", "defaulted", "defaults", "bad", "target", "label", "outcome", "creditability", "delinquent",
    "delinquency", "chargeoff", "chargedoff", "writeoff", "response", "isbad", "baddebt",
})
WEAK_WORDS = frozenset({"flag", "class", "y", "status", "event", "result", "ind", "indicator", "is"})
# value pairs that look like a label, strongest first: they say outcome, they say yes/no, they are 0/1
_OUTCOME_VALUES = frozenset({"bad", "good", "default", "defaulted", "non-default", "nondefault", "no default", "paid"})
_YES_NO = (frozenset({"yes", "no"}), frozenset({"y", "n"}), frozenset({"true", "false"}), frozenset({"t", "f"}))
_ZERO_ONE = frozenset({"0", "1"})
HEAD_ROWS = 2_000  # a column with three values among its first rows is refuted without reading the rest

SPLIT_WORDS = frozenset({"sample", "split", "set", "partition", "dataset", "subset", "fold", "part", "role", "usage"})
EVAL_VALUES = ("test", "testing", "validation", "valid", "val", "holdout", "hold-out", "hold out", "oot", "out-of-time",
               "eval", "evaluation", "oos", "out-of-sample")
MAX_SPLIT_VALUES = 6


def name_tokens(name: object) -> list[str]:
    """Lower-case words of a column name: split at non-letters and camelCase (``isBad`` → is, bad)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", clean_name(name))
    return [t for t in re.split(r"[^A-Za-z0-9]+", text.lower()) if t]


def name_score(name: object) -> int:
    """How clearly a name says outcome: 3 made only of outcome words (``default_flag``, ``y``), 2 holds a
    strong word (``default payment next month``), 1 ends in a weak one (``loan_status``), 0 none
    (``personal_status_single``: a dummy of the variable personal_status)."""
    tokens = name_tokens(name)
    if not tokens:
        return 0
    joined = "".join(tokens)
    outcome = [t in STRONG_WORDS or t in WEAK_WORDS for t in tokens]
    if all(outcome) and joined not in ("is", "ind"):
        return 3
    if any(t in STRONG_WORDS for t in tokens) or joined in STRONG_WORDS:
        return 2
    if tokens[-1] in WEAK_WORDS and tokens[-1] not in ("is", "ind"):
        return 1
    return 0


def value_score(values: Iterable[str]) -> int:
    """How much two outcomes look like a label: 3 good/bad (they say outcome), 2 yes/no, Y/N, true/false,
    1 0/1, 0 anything else (e.g. the two values of a standardised dummy)."""
    pair = frozenset(v.strip().lower() for v in values)
    if len(pair) != 2:
        return 0
    if pair <= _OUTCOME_VALUES:
        return 3
    if any(pair == p for p in _YES_NO):
        return 2
    if pair == _ZERO_ONE:
        return 1
    return 0


def two_outcomes(series: pd.Series) -> tuple[str, ...] | None:
    """The column's two distinct outcomes (canonical text, as the target would read them), or None."""
    if len(series) > HEAD_ROWS and len(target_labels(series.iloc[:HEAD_ROWS])[1]) > 2:
        return None
    labels = target_labels(series)[1]
    return labels if len(labels) == 2 else None


@dataclass(frozen=True)
class TargetGuess:
    """The column proposed as the outcome (None: no column qualifies, ask the user) and why."""

    column: str | None
    reason: str
    candidates: tuple[str, ...] = ()  # other columns that could be the outcome, best first

    @property
    def found(self) -> bool:
        return self.column is not None


def guess_target(frame: pd.DataFrame, preferred: str | None = None) -> TargetGuess:
    """Propose the outcome column of ``frame`` (see the module docstring for the rule).

    ``preferred`` is the target the model's feature schema records; it wins when the file has it.
    Columns are judged on their raw values in the file, so a scaled dummy with two values is not
    an outcome unless its name says so.
    """
    columns = [str(c) for c in frame.columns]
    if preferred is not None and clean_name(preferred) in columns:
        return TargetGuess(clean_name(preferred), "the target recorded in the model's feature schema")
    named: list[tuple[int, int, int, str, tuple[str, ...]]] = []
    for i, c in enumerate(columns):
        score = name_score(c)
        if score == 0:
            continue
        outcomes = two_outcomes(frame.iloc[:, i])
        if outcomes is None:
            continue
        named.append((score, value_score(outcomes), -i, c, outcomes))
    if named:
        named.sort(reverse=True)
        score, v, _, column, outcomes = named[0]
        why = {3: "its name says outcome", 2: "its name holds an outcome word", 1: "its name ends in an outcome word"}[score]
        return TargetGuess(column, f"{why} and it has exactly two outcomes ({', '.join(outcomes)})",
                           tuple(n[3] for n in named[1:]))
    labelled: list[tuple[int, int, str, tuple[str, ...]]] = []
    for i, c in enumerate(columns):
        outcomes = two_outcomes(frame.iloc[:, i])
        if outcomes is not None and value_score(outcomes):
            labelled.append((value_score(outcomes), -i, c, outcomes))
    if not labelled:
        return TargetGuess(None, "no column has two outcomes and a name or values that say outcome")
    labelled.sort(reverse=True)
    best = [x for x in labelled if x[0] == labelled[0][0]]
    if len(best) > 1:
        shown = ", ".join(f"'{x[2]}'" for x in best[:5]) + (f" and {len(best) - 5} more" if len(best) > 5 else "")
        return TargetGuess(None, f"several columns look like a label ({shown}) and none is named like an outcome",
                           tuple(x[2] for x in labelled))
    _, _, column, outcomes = best[0]
    return TargetGuess(column, f"no column is named like an outcome, and it is the only column whose two values look like "
                               f"a label ({', '.join(outcomes)})", tuple(x[2] for x in labelled[1:]))


def guess_split_column(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> str | None:
    """A column that splits rows into training and evaluation (``sample`` = train/test), or None.

    Named like a split (sample, split, set, partition, …) with 2 to 6 distinct values; or any
    column with 2 to 6 values one of which reads like evaluation (test, validation, oot, …).
    """
    skip = {clean_name(e) for e in exclude}
    fallback = None
    for i, c in enumerate(frame.columns):
        name = str(c)
        if name in skip:
            continue
        labels = target_labels(frame.iloc[:, i].iloc[:HEAD_ROWS])[1]
        if not 2 <= len(labels) <= MAX_SPLIT_VALUES:
            continue
        if set(name_tokens(name)) & SPLIT_WORDS:
            return name
        if fallback is None and guess_eval_value(labels) is not None:
            fallback = name
    return fallback


def guess_eval_value(values: Iterable[object]) -> str | None:
    """The value of a split column that marks evaluation rows (test, validation, oot, …), or None."""
    texts = [label_text(v) for v in values]
    lowered = {t.lower(): t for t in texts}
    for word in EVAL_VALUES:
        if word in lowered:
            return lowered[word]
    return None
