"""Chart conventions: the original model is always blue, the pruned one orange, methods never either."""
from core.metrics.stability import PSI_BANDS, PSI_SIGNIFICANT
from core.report.style import METHOD_PALETTE, ORIGINAL_COLOUR, PARETO_COLOUR, PRUNED_COLOUR

ORIGINAL, PRUNED = ORIGINAL_COLOUR, PRUNED_COLOUR  # the committee report uses the same two
NEUTRAL = "#9aa5b1"
GOOD = "#2e8b57"
BAD = "#c0392b"
PARETO = PARETO_COLOUR
# Method lines must not look like the two models (or like the Pareto line): the report's palette.
METHOD_COLOURS = METHOD_PALETTE
BAND_COLOURS = {PSI_BANDS[0][1]: GOOD, PSI_BANDS[1][1]: "#e0a800", PSI_SIGNIFICANT: BAD}
# No plotly template here: Streamlit's chart theme styles every figure, and naming a template costs
# ~25 ms per figure per rerun (plotly re-validates it), which a slider move cannot afford.
PLOT_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
