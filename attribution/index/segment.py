"""An immutable index segment: written once by SegmentWriter (segment_writer.py), memory-mapped
by Segment (segment_reader.py). This module names both sides for their importers."""

from attribution.index.format import SEGMENT_FILE
from attribution.index.segment_reader import VIEWS, Segment, SourceRecord
from attribution.index.segment_writer import (
    INDEXES,
    SCHEMA,
    SPILL_DIR,
    BlobRecord,
    NameCounts,
    SegmentWriter,
)

__all__ = [
    "INDEXES",
    "SCHEMA",
    "SEGMENT_FILE",
    "SPILL_DIR",
    "VIEWS",
    "BlobRecord",
    "NameCounts",
    "Segment",
    "SegmentWriter",
    "SourceRecord",
]
