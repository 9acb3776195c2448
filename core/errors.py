"""Typed, user-facing errors.

Every error the engine raises on bad input is a ``RiskPruneError``: a sentence a risk manager
understands plus a hint on how to fix it. Pages show ``str(err)`` in ``st.error``; the CLI prints
it on one line. Anything else escaping core is a bug, not a user mistake.
"""
from __future__ import annotations


class RiskPruneError(Exception):
    """Base class: ``message`` says what is wrong, ``hint`` says what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message.strip()
        self.hint = hint.strip()
        super().__init__(self.__str__())

    def __str__(self) -> str:  # one line, used verbatim in the UI and the CLI
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class DataError(RiskPruneError):
    """The dataset cannot be read or does not fit the model."""


class ModelError(RiskPruneError):
    """The model file cannot be loaded safely or its outputs cannot be turned into P(bad)."""


class SpecError(RiskPruneError):
    """A pruning, metric or report setting is out of range or names something that does not exist."""


class MetricError(RiskPruneError):
    """A metric is undefined for the given scores/labels (e.g. one class only)."""


class ExplainError(RiskPruneError):
    """Attributions cannot be computed for this model or data."""
