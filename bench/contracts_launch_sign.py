"""Launching 1,000 contracts from a template and batch-signing 200 by the enterprise, on
SQLite and on PostgreSQL, with the share of time spent in PDF work (fill, sign).

Run: .venv/bin/python bench/contracts_launch_sign.py [--contracts 1000] [--sign 200] [--backends sqlite,postgresql]
The PDF share adds up the time spent waiting for process-pool calls, relative to wall time; with
several contracts in flight at once it exceeds 100 % (the pool's processes work in parallel)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from laborsign.bootstrap import build_deps
from laborsign.config import load_config
from laborsign.core.accounts import Enterprise, Member, Role, Session, User
from laborsign.core.controls import Control
from laborsign.core.roster import Employee
from laborsign.core.services import signing
from laborsign.core.services.accounts import Actor
from laborsign.core.services.contracts.audit import Context
from laborsign.core.services.contracts.launch import initiate
from laborsign.core.services.contracts.seals import create_seal
from laborsign.core.templates import Template
from tests.pdfs import make_pdf
from tests.test_templates import CONTROLS

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


class Timed:
    """Wraps the PDF tools to add up the time spent waiting for PDF work."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in ("stamp", "sign", "inspect", "render"):
            return attr

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


async def world(deps: Any, workers: int) -> tuple[Actor, str, list[str]]:
    now = deps.clock.now()
    user = User(phone="13800138000", created_at=now, name="张管理", verified=True)
    enterprise = Enterprise(
        name="广州测试科技有限公司", credit_code="91350100M000100Y43", org_type="enterprise", created_at=now,
        verification_status="verified",
    )  # fmt: skip
    pdf = make_pdf(2)
    blob = await deps.blobs.put(pdf)
    template = Template(
        name="标准劳动合同", type="labor_contract", scope="enterprise", created_by=user.id, created_at=now,
        updated_at=now, enterprise_id=enterprise.id, status="enabled",
        files=[{"index": 0, "name": "合同.pdf", "blob": blob, "sha256": "", "pages": [{"width": 595.28, "height": 841.89}] * 2}],
        controls=[Control.from_dict(c) for c in CONTROLS],
    )  # fmt: skip
    async with deps.uow() as uow:
        uow.add(user)
        uow.add(enterprise)
        await uow.flush()
        member = Member(
            enterprise_id=enterprise.id, user_id=user.id, name="张管理", role=Role.ADMIN, created_at=now
        )
        uow.add(member)
        uow.add(template)
        ids = []
        for i in range(workers):
            e = Employee(
                enterprise_id=enterprise.id,
                name=f"员工{i}",
                phone=f"137{i:08d}",
                created_at=now,
                birth_date=date(1990, 1, 1),
            )
            uow.add(e)
            ids.append(e.id)
        session = Session(
            token_hash=uuid.uuid4().hex,
            user_id=user.id,
            side="employer",
            csrf="x",
            created_at=now,
            expires_at=now,
        )
        uow.add(session)
        await uow.commit()
    return Actor(user=user, enterprise=enterprise, member=member, session=session), template.id, ids


async def start_deps(backend: str) -> tuple[Any, str | None]:
    """The real stack on a fresh SQLite file or PostgreSQL database; returns it and the database's name."""
    tmp = Path(tempfile.mkdtemp())
    env = {"LABORSIGN_STORAGE__DATA_DIR": str(tmp / "data"), "LABORSIGN_SECURITY__SECRET_KEY": "bench"}
    db_name = None
    if backend == "postgresql":
        db_name = f"laborsign_bench_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        await admin.dispose()
        env["LABORSIGN_DATABASE__URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + db_name
    deps = build_deps(load_config(environ=env))
    await deps.start()
    return deps, db_name


async def stop_deps(deps: Any, db_name: str | None) -> None:
    await deps.db.dispose()
    if db_name:
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{db_name}" WITH (FORCE)'))
        await admin.dispose()


async def run(backend: str, contracts: int, sign: int) -> dict[str, float]:
    deps, db_name = await start_deps(backend)
    timed = Timed(deps.pdf)
    deps.pdf = timed  # type: ignore[assignment]
    actor, template_id, employees = await world(deps, contracts)
    await deps.pdf.stamp(make_pdf(1), [])  # warm the worker processes
    timed.seconds = 0.0
    start = time.perf_counter()
    result = await initiate(
        deps, actor, name=None, template_ids=[template_id], employee_ids=employees,
        enterprise_party={"seal_type": "contract", "operator_phone": "13800138000"},
        fields={"salary": "6000", "position": "技工"}, ctx=Context(),
    )  # fmt: skip
    launch_s = time.perf_counter() - start
    launch_pdf = timed.seconds
    assert len(result.created) == contracts, result.failed[:3]
    seal = await create_seal(deps, actor, seal_type="contract")
    ids = [c.id for c, _ in result.created[:sign]]
    session = await signing.start_enterprise_signing(
        deps, actor, contract_ids=ids, seal_id=seal.id, fields={}, intent_method="sms", ctx=Context()
    )
    # The SMS code is read from the outbox like the dev inbox does; what is timed is confirming
    # the batch, i.e. applying the signatures.
    async with deps.uow() as uow:
        code = (await uow.outbox.for_recipient("sms", "13800138000", 1))[0].payload["code"]
    timed.seconds = 0.0
    start = time.perf_counter()
    done = await signing.confirm_signing(deps, actor, session.id, code, Context())
    assert len(done["signed"]) == sign, done["failed"][:3]
    sign_s = time.perf_counter() - start
    sign_pdf = timed.seconds
    await stop_deps(deps, db_name)
    return {
        "launch_per_s": contracts / launch_s,
        "launch_pdf_share": launch_pdf / launch_s,
        "sign_per_s": sign / sign_s,
        "sign_pdf_share": sign_pdf / sign_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--sign", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        runs = [asyncio.run(run(backend, args.contracts, args.sign)) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{backend:10s} launch {med['launch_per_s']:7.1f} contracts/s (PDF {med['launch_pdf_share']:.0%})"
            f" | enterprise batch sign {med['sign_per_s']:6.1f} contracts/s (PDF {med['sign_pdf_share']:.0%})"
        )


if __name__ == "__main__":
    main()
