"""Fills per second for a page with 10 controls (Chinese text, embedded subset font), plus a
seal image, on one core.

Compares, in the same run and interleaved round by round:
  engine    laborsign.core.pdf.fill.fill_pdf (cached glyph advances, overlay painted as one
            form XObject without re-parsing the page)
  baseline  the textbook way: reportlab overlay with stringWidth per candidate line and
            pypdf's PageObject.merge_page

    .venv/bin/python bench/pdf_fill.py [--rounds 5] [--seconds 2] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from laborsign.core.pdf.fill import FillItem, fill_pdf
from laborsign.core.pdf.fonts import reportlab_font
from laborsign.core.pdf.seals import draw_round_seal

VALUES = [
    "张三",
    "4401**********123X",
    "广州市天河区珠江新城华夏路10号富力中心写字楼23层",
    "软件工程师",
    "2026年12月1日",
    "2029年11月30日",
    "叁个月",
    "人民币壹万贰仟元整（¥12,000.00）",
    "标准工时制",
    "本合同一式两份，甲乙双方各执一份，自双方签署之日起生效，具有同等法律效力。",
]


def template(pages: int = 3) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for n in range(pages):
        c.setFont("Helvetica", 11)
        for line in range(40):
            c.drawString(
                60, 780 - line * 18, f"Clause {n + 1}.{line + 1}: the parties agree to the terms below."
            )
        c.showPage()
    c.save()
    return buf.getvalue()


def items() -> list[FillItem]:
    out = [
        FillItem(1, 150, 90 + 55 * i, 260, 22 if i < 9 else 44, text=value) for i, value in enumerate(VALUES)
    ]
    out.append(
        FillItem(1, 420, 600, 120, 120, image_png=draw_round_seal("广州测试科技有限公司", "合同专用章"))
    )
    return out


def baseline_fill(data: bytes, fills: list[FillItem]) -> bytes:
    from reportlab.lib.utils import ImageReader

    font = reportlab_font()
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    for item in fills:
        left, top = item.x, height - item.y
        if item.image_png:
            image = ImageReader(io.BytesIO(item.image_png))
            iw, ih = image.getSize()
            scale = min(item.width / iw, item.height / ih)
            c.drawImage(image, left, top - item.height, iw * scale, ih * scale, mask="auto")
            continue
        text, size = item.text or "", min(14.0, item.height / 1.2)
        while size > 6 and stringWidth(text, font, size) > item.width:
            size -= 0.5
        lines, line = [], ""
        for ch in text:
            if stringWidth(line + ch, font, size) > item.width and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
        c.setFont(font, size)
        for i, value in enumerate(lines):
            c.drawString(left, top - size * (i + 1) * 1.2, value)
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=reader)
    writer.pages[0].merge_page(PdfReader(io.BytesIO(buf.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Operations per CPU-second of this process (the per-core figure; see pdf_sign.py)."""
    fn()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / max(time.process_time() - cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    data, fills = template(), items()
    text_only = fills[:10]

    if args.profile:
        fill_pdf(data, fills)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(50):
            fill_pdf(data, fills)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return

    cases: dict[str, Callable[[], object]] = {
        "engine, 10 text controls": lambda: fill_pdf(data, text_only),
        "baseline, 10 text controls": lambda: baseline_fill(data, text_only),
        "engine, 10 text + seal": lambda: fill_pdf(data, fills),
        "baseline, 10 text + seal": lambda: baseline_fill(data, fills),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            results[name].append(rate(fn, args.seconds))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, one process, {args.rounds} rounds")
    print("fills per CPU-second, median [min-max]:")
    for name, values in results.items():
        print(f"  {name:<28} {statistics.median(values):7.1f} [{min(values):.1f}-{max(values):.1f}]")
    for kind in ("10 text controls", "10 text + seal"):
        ratio = statistics.median(results[f"engine, {kind}"]) / statistics.median(
            results[f"baseline, {kind}"]
        )
        print(f"  engine / baseline ({kind}): x{ratio:.2f}")


if __name__ == "__main__":
    main()
