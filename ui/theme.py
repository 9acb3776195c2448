"""One colour for the original model and one for the pruned model, on every page and in reports."""
from core.report.style import ORIGINAL_COLOUR, PRUNED_COLOUR

ORIGINAL, PRUNED = ORIGINAL_COLOUR, PRUNED_COLOUR  # the committee report uses the same two
NEUTRAL = "#9aa5b1"
GOOD = "#2e8b57"
BAD = "#c0392b"
PARETO = "#2e8b57"
METHOD_COLOURS = ["#1f4e79", "#e07b39", "#2e8b57", "#8e44ad", "#c0392b", "#b8860b", "#7f8c8d"]
# No plotly template here: Streamlit's chart theme styles every figure, and naming a template costs
# ~25 ms per figure per rerun (plotly re-validates it), which a slider move cannot afford.
PLOT_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
