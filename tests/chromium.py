"""One Chromium for a whole test session. Playwright's own browser server (the driver's
`launch-server` command) launches Debian's Chromium once, with the switches Playwright gives
every browser it launches; each test then connects to it over Playwright's protocol and works in
contexts of its own, which the server closes when the test's connection goes.

The server goes with the session: stopped at its end, and gone on its own when the test process
dies (it stops when its stdin, a pipe from the test process, closes), taking Chromium with it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Loaded into the server's Node before Playwright: the end of stdin means the test process is
# gone, and SIGTERM is the signal on which Playwright closes the browser and removes its profile.
STOP_WITH_PARENT = (
    "process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));\n"
    "process.stdin.resume();\n"
    "process.stdin.unref();  // not what keeps Node running once the server has closed\n"
)


@dataclass
class ChromiumServer:
    process: subprocess.Popen[bytes]
    endpoint: str  # ws://127.0.0.1:<port>/<secret path>, for BrowserType.connect
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # Playwright closes Chromium, then exits
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def start(executable: str, args: list[str], workdir: Path, timeout: float = 60.0) -> ChromiumServer:
    from playwright._impl._driver import compute_driver_executable

    node, cli = compute_driver_executable()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "launch.json"
    config.write_text(json.dumps({"executablePath": executable, "args": args, "headless": True}))
    watcher = workdir / "stop-with-parent.js"
    watcher.write_text(STOP_WITH_PARENT)
    log = workdir / "chromium-server.log"
    server_cli = [cli, "launch-server", "--browser", "chromium", "--config", str(config)]
    argv = [node, "--require", str(watcher), *server_cli]
    with log.open("wb") as err:  # the child keeps its own copy
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, which stops it
        )
    server = ChromiumServer(process, "", log)
    try:
        server.endpoint = _endpoint(process, log, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _endpoint(process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    """The one line the server prints once Chromium is up: its WebSocket address."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while b"\n" not in line:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the Chromium server printed no address in {timeout:.0f} s: {_tail(log)}")
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the Chromium server exited ({process.wait()}): {_tail(log)}")
            line += chunk
    endpoint = line.split(b"\n")[0].decode().strip()
    if not endpoint.startswith("ws://"):
        raise RuntimeError(f"the Chromium server printed {endpoint!r}: {_tail(log)}")
    return endpoint


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


class SessionChromium:
    """The session's server, started on first use and started again if it has gone (Chromium
    crashed during a test, and the server ends with it): a crash fails that test, not the rest."""

    def __init__(self, executable: str, args: list[str], workdir: Path) -> None:
        self.executable, self.args, self.workdir = executable, args, workdir
        self.server: ChromiumServer | None = None
        self.starts = 0

    def endpoint(self) -> str:
        if self.server is not None and self.server.process.poll() is not None:
            self.server.stop()
            self.server = None
        if self.server is None:
            self.starts += 1
            self.server = start(self.executable, self.args, self.workdir / f"server-{self.starts}")
        return self.server.endpoint

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
