"""Report: what the committee pack says (content), its renderings (HTML, PDF), the manifest and the model exports."""
from core.report.bundle import (
    MANIFEST,
    MODEL_ONNX,
    MODEL_PT,
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
from core.report.export import PRUNE_INFO_FILE, onnx_bytes, onnx_max_difference, prune_info, torchscript_bytes
from core.report.manifest import build_manifest, manifest_bytes

__all__ = [
    "MANIFEST", "MODEL_ONNX", "MODEL_PT", "REPORT_HTML", "REPORT_PDF", "ReportBundle", "ReportOptions", "ReportRun",
    "build_bundle", "build_report", "content_for", "run_report", "ReportContent", "build_report_content", "headline", "summary_kpis",
    "PRUNE_INFO_FILE", "onnx_bytes", "onnx_max_difference", "prune_info", "torchscript_bytes", "build_manifest",
    "manifest_bytes",
]
