"""A local RFC 3161 time-stamping server speaking the real protocol over HTTP, backed by
the platform's TSU certificate, to exercise the external-TSA path end to end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import tsp

from laborsign.core.pdf import fastcms
from laborsign.core.pdf.ca import PlatformTsa
from laborsign.core.pdf.signing import TSA_POLICY


@contextmanager
def tsa_server(spec: PlatformTsa, mode: str = "ok") -> Iterator[str]:
    key = fastcms.private_key_from_der(spec.key_der)
    info = fastcms.CertInfo.of(spec.cert_der)
    hits: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(1)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if mode == "error":
                self.send_response(500)
                self.end_headers()
                return
            if mode == "garbage":
                reply = b"not a timestamp"
            else:
                request = tsp.TimeStampReq.load(body)
                token = fastcms.timestamp_token(
                    imprint=request["message_imprint"]["hashed_message"].native,
                    tsa=info,
                    key=key,
                    chain=list(spec.chain_der),
                    policy=TSA_POLICY,
                    nonce=request["nonce"].native,
                )
                reply = fastcms.seq(fastcms.seq(fastcms.integer(0)), token)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
