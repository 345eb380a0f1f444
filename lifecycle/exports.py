"""Rows as CSV or JSON text, in chunks: one format for export files and streamed responses."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

FORMATS = ("csv", "json")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}  # the Content-Type of each format


def csv_cell(value):
    """A value as one CSV cell: a list of words joined by spaces, a list of records as JSON text."""
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return " ".join(value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return value


def text_chunks(rows: Iterable[dict], fmt: str, fields: Sequence[str], *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """``rows`` as CSV (a header of ``fields``, cells as ``csv_cell`` writes them) or a JSON array, in chunks."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use csv or json")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    else:
        buffer.write("[")
    n = 0
    for row in rows:
        if writer is not None:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
        else:
            buffer.write(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False, default=str))
        n += 1
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if writer is None:
        buffer.write("\n]\n" if n else "]\n")
    yield buffer.getvalue()
