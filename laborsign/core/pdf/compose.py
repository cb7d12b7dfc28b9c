"""Putting a contract's document together: the files of one or more templates become one
PDF (each party then signs the whole of it once), with the page ranges remembered so the
viewer can still list the files."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

from ..controls import Control


def merge_pdfs(files: list[bytes]) -> tuple[bytes, list[int]]:
    """Returns the merged PDF and the first page (1-based) of each file in it."""
    if len(files) == 1:
        return files[0], [1]
    writer = PdfWriter()
    starts = []
    for data in files:
        starts.append(len(writer.pages) + 1)
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), starts


def rebase_controls(controls: list[Control], starts: list[int]) -> list[Control]:
    """Template controls address (file, page); in the merged document they address a page."""
    return [c.on_page(starts[c.file] + c.page - 1) for c in controls]
