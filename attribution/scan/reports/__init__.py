"""Scan reports: json, sarif, spdx, cyclonedx, csv, html and a third-party notice."""

from .registry import FORMATS, write_report

__all__ = ["FORMATS", "write_report"]
