"""RiskPrune engine: load, prune, measure and explain credit-risk networks. No Streamlit here."""
from core.errors import DataError, ExplainError, MetricError, ModelError, RiskPruneError, SpecError

__all__ = ["RiskPruneError", "DataError", "ModelError", "SpecError", "MetricError", "ExplainError"]
