"""The async pool the web process uses: real worker processes, errors keep their codes."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from laborsign.core.errors import Invalid, UnsupportedType
from laborsign.core.pdf.ca import PlatformCA
from laborsign.core.pdf.fill import FillItem
from laborsign.core.pdf.geometry import Box
from laborsign.core.pdf.workers import PdfWorkers

from .factory import encrypted_pdf, handwriting_png, make_pdf


async def test_pool_round_trip(platform_ca: PlatformCA) -> None:
    async with PdfWorkers(1, timeout=120) as workers:
        info = await workers.inspect(make_pdf(2))
        assert info.page_count == 2
        filled = await workers.fill(make_pdf(2), [FillItem(1, 72, 100, 200, 20, text="试用期：三个月")])
        assert "试用期：三个月" in PdfReader(io.BytesIO(filled)).pages[0].extract_text()
        signed = await workers.sign(
            filled,
            credentials=platform_ca.issue_signer("张三", "4401**", "person"),
            field_name="worker",
            timestamper=platform_ca.tsa(),
            box=Box(2, 72, 600, 120, 60),
            appearance_png=handwriting_png(),
        )
        [report] = await workers.verify(signed, [platform_ca.root_der()])
        assert report.intact and report.trusted
        png = await workers.render(signed, 2, 0.5)
        assert png.startswith(b"\x89PNG")

        with pytest.raises(Invalid) as caught:
            await workers.inspect(encrypted_pdf())
        assert caught.value.code == "pdf_encrypted" and caught.value.fields == {
            "file": "PDF已加密，请上传未加密的文件"
        }
        with pytest.raises(UnsupportedType):
            await workers.inspect(b"not a pdf")
