"""One colour for the original model and one for the pruned model, on every page and in every report."""
from __future__ import annotations

ORIGINAL_COLOUR = "#1f4e79"
PRUNED_COLOUR = "#e07b39"
METHOD_PALETTE = ("#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b8860b", "#6a5acd")  # never the model colours
PARETO_COLOUR = "#333333"
