"""Signatures per second on one core: PAdES, incremental, visible (seal image), timestamped by
the platform's in-process TSA, chain + CRLs in the DSS (B-LT); 1-page and 10-page contracts.

Compares, in the same run and interleaved round by round (these machines are shared and
noisy; read medians and ratios):
  engine  laborsign.core.pdf.signing.sign_pdf (cached keys, DER-built CMS and tokens)
  stock   the same call with stock=True: pyHanko as documented (SimpleSigner re-parsing the
          key, DummyTimeStamper-style TSA, embed_validation_info with a validation context,
          PdfImage stamp decoded per signature)
plus raw key operations (the reason for EC P-256) and a three-party contract.

    .venv/bin/python bench/pdf_sign.py [--rounds 5] [--seconds 2] [--profile stock|engine]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from laborsign.core.pdf.ca import PlatformCA
from laborsign.core.pdf.fill import FillItem, fill_pdf
from laborsign.core.pdf.geometry import Box
from laborsign.core.pdf.seals import draw_round_seal
from laborsign.core.pdf.signing import sign_pdf
from laborsign.core.pdf.stamps import Stamp, add_slots, add_stamps


def contract(pages: int) -> bytes:
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
    items = [FillItem(1, 80, 100 + 30 * i, 250, 20, text=f"字段{i}：广州市天河区") for i in range(10)]
    return fill_pdf(buf.getvalue(), items)


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Operations per CPU-second of this process: on a shared, oversubscribed machine the
    wall clock also counts time spent waiting for a core; CPU time is the per-core figure."""
    fn()  # warm caches (the engine keeps per-process state by design)
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / max(time.process_time() - cpu, 1e-9)


def raw_keys() -> None:
    data = b"x" * 100
    p256 = ec.generate_private_key(ec.SECP256R1())
    rsa2048 = rsa.generate_private_key(65537, 2048)
    rows = [
        ("P-256 sign", lambda: p256.sign(data, ec.ECDSA(hashes.SHA256()))),
        ("RSA-2048 sign", lambda: rsa2048.sign(data, padding.PKCS1v15(), hashes.SHA256())),
        ("P-256 keygen", lambda: ec.generate_private_key(ec.SECP256R1())),
        ("RSA-2048 keygen", lambda: rsa.generate_private_key(65537, 2048)),
    ]
    print("raw key operations (ms each, median of 5):")
    for label, fn in rows:
        n = 3 if "RSA-2048 keygen" in label else 200
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples.append((time.perf_counter() - start) / n * 1000)
        print(f"  {label:<18} {statistics.median(samples):8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--profile", choices=["stock", "engine"])
    args = parser.parse_args()
    # The stock path warns on every signature that fetching is off (we embed the CRLs).
    logging.getLogger("pyhanko").setLevel(logging.ERROR)

    ca = PlatformCA.load_or_create(Path(tempfile.mkdtemp()), b"bench", "http://127.0.0.1:8080/api/v1/pki/crl")
    tsa = ca.tsa()
    seal = draw_round_seal("广州测试科技有限公司", "合同专用章")
    docs = {1: contract(1), 10: contract(10)}
    enterprise = ca.issue_signer("广州测试科技有限公司", "91440101MA59TEST3X", "organisation")

    def one(pages: int, stock: bool) -> Callable[[], bytes]:
        def run() -> bytes:
            return sign_pdf(
                docs[pages],
                credentials=enterprise,
                field_name="enterprise",
                timestamper=tsa,
                box=Box(pages, 300, 650, 120, 120),
                appearance_png=seal,
                reason="用人单位签署",
                stock=stock,
            )

        return run

    if args.profile:
        fn = one(1, args.profile == "stock")
        fn()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(30):
            fn()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, one process, {args.rounds} rounds")
    raw_keys()
    cases = [(pages, stock) for pages in (1, 10) for stock in (False, True)]
    results: dict[tuple[int, bool], list[float]] = {case: [] for case in cases}
    for _ in range(args.rounds):
        for case in cases:
            results[case].append(rate(one(*case), args.seconds))
    print("\nvisible + timestamped + B-LT, incremental (signatures per CPU-second, median [min-max]):")
    for pages in (1, 10):
        engine = results[(pages, False)]
        stock = results[(pages, True)]
        print(
            f"  {pages:>2}-page  engine {statistics.median(engine):7.1f} [{min(engine):.1f}-{max(engine):.1f}]"
            f"   stock pyHanko {statistics.median(stock):6.1f} [{min(stock):.1f}-{max(stock):.1f}]"
            f"   x{statistics.median(engine) / statistics.median(stock):.1f}"
        )

    def three_parties(stock: bool) -> Callable[[], bytes]:
        def run() -> bytes:
            doc = docs[1]
            for field, name, kind in (
                ("worker", "张三", "person"),
                ("enterprise", "广州测试科技有限公司", "organisation"),
                ("platform", "LaborSign", "organisation"),
            ):
                credentials = ca.issue_signer(name, "x", kind)  # type: ignore[arg-type]
                box = Box(1, 80, 650, 120, 120) if field == "worker" else Box(1, 300, 650, 120, 120)
                doc = sign_pdf(doc, credentials=credentials, field_name=field, timestamper=tsa,
                               box=box if field != "platform" else None, appearance_png=seal, stock=stock)  # fmt: skip
            return doc

        return run

    engine3 = [rate(three_parties(False), args.seconds) for _ in range(3)]
    stock3 = [rate(three_parties(True), args.seconds) for _ in range(3)]
    print(
        "\nthree parties in sequence incl. a fresh certificate each (contracts per CPU-second): "
        f"engine {statistics.median(engine3):.1f}, stock {statistics.median(stock3):.1f}"
    )

    marks_section(ca, docs[10], enterprise, seal, args)


def marks_section(
    ca: PlatformCA, doc: bytes, enterprise: object, seal: bytes, args: argparse.Namespace
) -> None:
    """A party's act as the contract service makes it: seal image, two values and the date
    given to the fields prepared at launch, in the signature's own revision; against the first
    way (the marks as annotations in a revision of their own, then the signature)."""
    marks = [
        Stamp(10, 300, 560, 120, 120, image_png=seal, slot="ls_mark_0"),
        Stamp(1, 100, 300, 200, 20, text="6222020000000000", slot="ls_mark_1"),
        Stamp(1, 100, 340, 200, 20, text="技术部 · 高级技工", slot="ls_mark_2"),
        Stamp(10, 300, 700, 120, 20, text="2026-11-27", slot="ls_mark_3"),
    ]
    prepared = add_slots(doc, [replace(m, text=None, image_png=None) for m in marks])
    tsa = ca.tsa()

    def act(current: bool) -> Callable[[], bytes]:
        def run() -> bytes:
            if current:
                return sign_pdf(prepared, credentials=enterprise, field_name="enterprise", timestamper=tsa,  # type: ignore[arg-type]
                                reason="用人单位签署", stamps=marks)  # fmt: skip
            legacy = [replace(m, slot=None) for m in marks]
            return sign_pdf(add_stamps(doc, legacy), credentials=enterprise, field_name="enterprise",  # type: ignore[arg-type]
                            timestamper=tsa, reason="用人单位签署")  # fmt: skip

        return run

    now: list[float] = []
    before: list[float] = []
    for _ in range(args.rounds):
        now.append(rate(act(True), args.seconds))
        before.append(rate(act(False), args.seconds))
    print(
        "\na party's act on a 10-page contract with seal + 3 text marks (acts per CPU-second, median [min-max]):\n"
        f"  prepared fields, signature's revision {statistics.median(now):6.1f} [{min(now):.1f}-{max(now):.1f}]"
        f"   annotations in a revision of their own {statistics.median(before):6.1f}"
        f" [{min(before):.1f}-{max(before):.1f}]   x{statistics.median(now) / statistics.median(before):.2f}"
    )


if __name__ == "__main__":
    main()
