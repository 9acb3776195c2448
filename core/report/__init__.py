"""Report: what the committee pack says (content → document), its renderings (HTML, PDF, DOCX, deck), the manifest and the model exports."""
from core.report.bundle import (
    DECK_PPTX,
    MANIFEST,
    MODEL_ONNX,
    MODEL_PT,
    REPORT_DOCX,
    REPORT_HTML,
    REPORT_PDF,
    ReportBundle,
    ReportOptions,
    ReportRun,
    build_bundle,
    build_report,
    content_for,
    run_report,
)
from core.report.content import ReportContent, build_report_content, headline, summary_kpis
from core.report.deck import DECK_TITLES, deck_bytes
from core.report.docx import docx_bytes
from core.report.export import PRUNE_INFO_FILE, onnx_bytes, onnx_max_difference, prune_info, torchscript_bytes
from core.report.manifest import build_manifest, manifest_bytes

__all__ = [
    "DECK_PPTX", "MANIFEST", "MODEL_ONNX", "MODEL_PT", "REPORT_DOCX", "REPORT_HTML", "REPORT_PDF", "ReportBundle", "ReportOptions",
    "ReportRun", "build_bundle", "build_report", "content_for", "run_report", "ReportContent", "build_report_content", "headline",
    "summary_kpis", "DECK_TITLES", "deck_bytes", "docx_bytes", "PRUNE_INFO_FILE", "onnx_bytes", "onnx_max_difference", "prune_info",
    "torchscript_bytes", "build_manifest", "manifest_bytes",
]
