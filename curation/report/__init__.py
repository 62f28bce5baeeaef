"""The curation report: token funnel, removal reasons with examples, filter overlap, what-if thresholds,
stage statistics and the data-scaling analysis of a run directory (``curate report <run dir>``)."""

from curation.report.build import build_report, build_summary

__all__ = ["build_report", "build_summary"]
