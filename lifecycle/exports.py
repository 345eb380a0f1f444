"""Rows as CSV or JSON text, in chunks: one format for export files and streamed responses."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

FORMATS = ("csv", "json")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}  # the Content-Type of each format


def text_chunks(rows: Iterable[dict], fmt: str, fields: Sequence[str], *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """``rows`` as CSV (a header of ``fields``; lists joined by spaces) or a JSON array, ``rows_per_chunk`` a chunk."""
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
            writer.writerow({k: (" ".join(v) if isinstance(v, list) else v) for k, v in row.items()})
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
