"""The demo's second part: rows in bulk, cloned from what the walk made. Contracts in every
state, each with its two parties and a hash-chained audit trail, all sharing the walk's real
PDFs (launched, signed by the worker, signed by both). PostgreSQL loads by COPY, SQLite by
executemany, a batch per transaction."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, select
from sqlalchemy import text as text_sql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..core.contracts import GENESIS, canonical_event
from ..core.crypto import FieldCipher
from ..core.identity_rules import mask_id_number
from ..core.ids import new_id
from ..storage.accounts import enterprises
from ..storage.contracts import contracts, events, parties
from ..storage.roster import employees
from .walk import Walked, random_credit_code, resident_id

BATCH = 10_000
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建波宁欣怡浩然子轩梓涵宇航思雨佳琪雪梅志刚海燕"
)
REGIONS = ("440106", "440111", "440305", "110105", "310104", "320102", "330106", "420106", "510107", "610113")
# (share, status, worker signed, enterprise signed, how it ended)
STATES = (
    (0.18, "signing", False, False, None),
    (0.12, "signing", True, False, None),
    (0.08, "signing", False, True, None),
    (0.42, "completed", True, True, "completed"),
    (0.07, "withdrawn", False, False, "withdrawn"),
    (0.06, "rejected", False, False, "declined"),
    (0.07, "expired", False, False, "expired"),
)


@dataclass
class Plan:
    enterprises: int
    employees: int
    contracts: int
    jobs: int = 1  # processes loading contracts (PostgreSQL)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _state(rng: random.Random) -> tuple[str, bool, bool, str | None]:
    pick, acc = rng.random(), 0.0
    for share, *rest in STATES:
        acc += share
        if pick < acc:
            return rest[0], rest[1], rest[2], rest[3]  # type: ignore[return-value]
    return "completed", True, True, "completed"


class Loader:
    """Writes rows of one table a batch at a time, the fastest way each database takes them."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    async def load(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.pg:
            await self._sqlite(table, rows)
            return
        names = [c.name for c in table.columns]
        as_json = [c.name for c in table.columns if isinstance(getattr(c.type, "impl", c.type), JSON)]
        dumped: dict[int, str] = {}  # most JSON values are one object shared by every row
        for row in rows:
            for name in as_json:
                value = row[name]
                key = id(value)
                if key not in dumped:
                    dumped[key] = json.dumps(value, ensure_ascii=False)
                row[name] = dumped[key]
        records = list(map(itemgetter(*names), rows))
        await self.conn.execute(text_sql("SET LOCAL synchronous_commit = off"))
        raw = await self.conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(table.name, records=records, columns=names)  # type: ignore[union-attr]

    async def _sqlite(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """executemany on the driver with the columns' own bind conversions, each shared JSON
        object serialised once."""
        dialect = self.conn.dialect
        columns = list(table.columns)
        convert = [c.type.bind_processor(dialect) for c in columns]
        shared = [isinstance(getattr(c.type, "impl", c.type), JSON) for c in columns]
        done: dict[tuple[int, int], Any] = {}

        def value(k: int, raw: Any) -> Any:
            fn = convert[k]
            if fn is None or raw is None:
                return raw
            if not shared[k]:
                return fn(raw)
            key = (k, id(raw))
            if key not in done:
                done[key] = fn(raw)
            return done[key]

        names = [c.name for c in columns]
        records = [tuple(value(k, row[n]) for k, n in enumerate(names)) for row in rows]
        quoted = ", ".join(f'"{n}"' for n in names)
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(names))})'
        raw = await self.conn.get_raw_connection()
        await raw.driver_connection.executemany(sql, records)  # type: ignore[union-attr]


async def _row(conn: AsyncConnection, table: Table, row_id: str) -> dict[str, Any]:
    found = (await conn.execute(select(table).where(table.c.id == row_id))).mappings().one()
    return dict(found)


NO_DETAILS: dict[str, Any] = {}


def _event(contract_id: str, seq: int, prev: str, kind: str, at: datetime, base: dict[str, Any],
           actor: tuple[str, str | None, str], sha: str, method: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A row of the audit chain, hashed as ContractEvent.seal does."""
    row = {
        "id": new_id(), "contract_id": contract_id, "seq": seq, "kind": kind, "at": at, "actor_type": actor[0],
        "actor_id": actor[1], "actor_name": actor[2], "ip": base["ip"], "user_agent": base["user_agent"],
        "method": method, "document_sha256": sha, "details": NO_DETAILS, "prev_hash": prev,
    }  # fmt: skip
    row["hash"] = hashlib.sha256(canonical_event(row)).hexdigest()
    return row


class Seeder:
    def __init__(
        self, walked: Walked, cipher: FieldCipher, now: datetime, seed: int = 17, jobs: int = 1
    ) -> None:
        self.w, self.cipher, self.now, self.jobs = walked, cipher, now, jobs
        self.rng = random.Random(seed)
        self.serial = 0

    async def run(self, engine: AsyncEngine, plan: Plan) -> dict[str, int]:
        async with engine.connect() as conn:
            self.contract_row = await _row(conn, contracts, self.w.completed_id)
            self.employee_row = await _row(conn, employees, self.contract_row["employee_id"])
            self.enterprise_row = await _row(conn, enterprises, self.w.enterprise_id)
            first = (await conn.execute(select(events).where(events.c.contract_id == self.w.completed_id)
                                        .order_by(events.c.seq).limit(1))).mappings().one()  # fmt: skip
            self.event_base = dict(first)
        tenants = [self.w.enterprise_id]
        async with engine.begin() as conn:
            extra = []
            for i in range(1, plan.enterprises):
                row = {**self.enterprise_row, "id": new_id(), "credit_code": random_credit_code(),
                       "name": f"{self.w.enterprise_name[:-6]}第{i}分公司有限公司"}  # fmt: skip
                extra.append(row)
                tenants.append(row["id"])
            await Loader(conn).load(enterprises, extra)
        made = {"enterprises": len(tenants), "employees": 0, "contracts": 0}
        for k, tenant in enumerate(tenants):
            staff = _share(plan.employees, len(tenants), k)
            papers = _share(plan.contracts, len(tenants), k)
            people = await self._employees(engine, tenant, staff)
            made["employees"] += len(people)
            made["contracts"] += await self._contracts(engine, tenant, people, papers)
        await refresh_statistics(engine)
        return made

    async def _contracts(
        self, engine: AsyncEngine, tenant: str, people: list[tuple[str, str, str]], count: int
    ) -> int:
        """PostgreSQL takes COPY streams side by side: a process per core makes and loads a
        share (the rows cost more Python than the database spends on them)."""
        jobs = self.jobs if engine.dialect.name == "postgresql" and count >= 4 * BATCH else 1
        makers = [
            ContractMaker(self.w, self.contract_row, self.event_base, self.now, self.rng.randrange(1 << 30))
            for _ in range(jobs)
        ]
        if jobs == 1:
            return await makers[0].load(engine, tenant, people, count)
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        url = engine.url.render_as_string(hide_password=False)
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            done = await asyncio.gather(*(
                loop.run_in_executor(pool, load_in_process, url, maker, tenant, people, _share(count, jobs, k))
                for k, maker in enumerate(makers)
            ))  # fmt: skip
        return sum(done)

    async def _employees(self, engine: AsyncEngine, tenant: str, count: int) -> list[tuple[str, str, str]]:
        people: list[tuple[str, str, str]] = []
        for chunk in _chunks(count, BATCH):
            rows = []
            for _ in range(chunk):
                self.serial += 1
                born = datetime(1965, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 40))
                number = resident_id(self.rng.choice(REGIONS), born.strftime("%Y%m%d"), self.serial % 1000)
                # Unique per run: the serial spreads over the birth date's hundreds too.
                name, phone = _name(self.rng), f"1{self.rng.choice('3589')}{self.serial:09d}"
                row = {
                    **self.employee_row, "id": new_id(), "enterprise_id": tenant, "user_id": None,
                    "name": name, "phone": phone, "gender": "male" if self.serial % 2 else "female",  # the ID's 17th digit
                    "id_number_enc": self.cipher.encrypt(number, "employees.id_number"),
                    "id_number_hash": self.cipher.blind_index(number, "id_number"),
                    "id_number_masked": mask_id_number(number), "birth_date": born.date(),
                    "department_id": self.rng.choice(self.w.department_ids[1:]) if tenant == self.w.enterprise_id
                    else None, "onboarding_id": None,
                    "created_at": self.now - timedelta(seconds=self.rng.randrange(1, 86400 * 720)),
                }  # fmt: skip
                rows.append(row)
                people.append((row["id"], name, phone))
            async with engine.begin() as conn:
                await Loader(conn).load(employees, rows)
        return people


@dataclass
class ContractMaker:
    """Contracts of one tenant cloned from the walk's completed one; picklable, so a worker
    process can make and load a share of them."""

    w: Walked
    contract_row: dict[str, Any]
    event_base: dict[str, Any]
    now: datetime
    seed: int

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    async def load(
        self, engine: AsyncEngine, tenant: str, people: list[tuple[str, str, str]], count: int
    ) -> int:
        if not people:
            return 0
        launched, worker_signed, final = self.w.versions[0]
        sealed_first = self.w.versions[1][-1]
        hr = ("enterprise", self.w.user_ids["hr"], self.w.hr_name)
        for chunk in _chunks(count, BATCH):
            c_rows: list[dict[str, Any]] = []
            p_rows: list[dict[str, Any]] = []
            e_rows: list[dict[str, Any]] = []
            for _ in range(chunk):
                employee_id, name, phone = self.rng.choice(people)
                status, w_signed, e_signed, ending = _state(self.rng)
                created = self.now - timedelta(seconds=self.rng.randrange(60, 86400 * 720))
                cid = new_id()
                w_at = created + timedelta(hours=self.rng.randrange(1, 48)) if w_signed else None
                e_at = (w_at or created) + timedelta(hours=self.rng.randrange(1, 24)) if e_signed else None
                ended = e_at if w_signed and e_signed else None
                if ending and not ended:
                    ended = created + timedelta(days=self.rng.randrange(1, 30))
                document = (
                    final if e_signed and w_signed else worker_signed if w_signed else sealed_first if e_signed
                    else launched
                )  # fmt: skip
                c_rows.append({
                    **self.contract_row, "id": cid, "enterprise_id": tenant, "employee_id": employee_id,
                    "worker_user_id": None, "worker_name": name, "worker_phone": phone, "created_at": created,
                    "launched_at": created, "status": status, "document_blob": document,
                    "document_sha256": document, "completed_at": ended, "last_reminded_at": None,
                    "sign_deadline": created + timedelta(days=30) if ending == "expired" else None,
                    "ended_reason": {"withdrawn": "岗位调整", "declined": "薪资与约定不符"}.get(ending or ""),
                    "values": {**self.contract_row["values"], "worker_name": name, "worker_phone": phone},
                    "awaiting_worker": status == "signing" and not w_signed,
                    "awaiting_enterprise": status == "signing" and not e_signed,
                    "version": int(w_signed) + int(e_signed), "reinitiated_from": None,
                })  # fmt: skip
                p_rows.append({"id": new_id(), "contract_id": cid, "role": "worker", "name": name,
                               "status": "signed" if w_signed else ("declined" if ending == "declined" else "pending"),
                               "user_id": None, "signed_at": w_at, "verification_method": "sms" if w_signed else None,
                               "decline_reason": "薪资与约定不符" if ending == "declined" else None})  # fmt: skip
                p_rows.append({"id": new_id(), "contract_id": cid, "role": "enterprise",
                               "name": self.w.enterprise_name, "status": "signed" if e_signed else "pending",
                               "user_id": self.w.user_ids["hr"] if e_signed else None, "signed_at": e_at,
                               "verification_method": "sms" if e_signed else None, "decline_reason": None})  # fmt: skip
                e_rows.extend(self._trail(cid, created, (launched, worker_signed, final, sealed_first),
                                          w_at, e_at, ended, ending, (name, hr)))  # fmt: skip
            async with engine.begin() as conn:
                loader = Loader(conn)
                await loader.load(contracts, c_rows)
                await loader.load(parties, p_rows)
                await loader.load(events, e_rows)
        return count

    def _trail(self, cid: str, created: datetime, docs: tuple[str, str, str, str],
               w_at: datetime | None, e_at: datetime | None, ended: datetime | None, ending: str | None,
               who: tuple[str, tuple[str, str | None, str]]) -> Iterator[dict[str, Any]]:  # fmt: skip
        launched, worker_signed, final, sealed_first = docs
        name, hr = who
        steps: list[tuple[str, datetime, tuple[str, str | None, str], str, str | None]] = [
            ("created", created, hr, launched, None), ("launched", created, hr, launched, None)]  # fmt: skip
        if w_at:
            steps.append(("signed", w_at, ("worker", None, name), worker_signed, "sms"))
        if e_at and w_at:
            steps.append(("signed", e_at, hr, final, "sms"))
            steps.append(("completed", e_at, ("system", None, "系统"), final, None))
        elif e_at:
            steps.append(("signed", e_at, hr, sealed_first, "sms"))
        elif ending and ended:
            actor = {"withdrawn": hr, "declined": ("worker", None, name)}.get(
                ending, ("system", None, "系统")
            )
            steps.append((ending, ended, actor, launched, None))
        prev = GENESIS
        for seq, (kind, at, actor, sha, method) in enumerate(steps, start=1):
            row = _event(cid, seq, prev, kind, at, self.event_base, actor, sha, method)
            prev = row["hash"]
            yield row


async def refresh_statistics(engine: AsyncEngine) -> None:
    """The planner's statistics and PostgreSQL's visibility map (index-only scans) for the
    tables just filled, instead of waiting for autovacuum."""
    tables = ("contracts", "contract_parties", "contract_events", "employees")
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text_sql(f"VACUUM (ANALYZE) {', '.join(tables)}"))
        else:
            await conn.execute(text_sql("ANALYZE"))
            await conn.commit()


def load_in_process(
    url: str, maker: ContractMaker, tenant: str, people: list[tuple[str, str, str]], count: int
) -> int:
    from ..storage.db import make_engine

    async def run() -> int:
        engine = make_engine(url, 1, False)
        try:
            return await maker.load(engine, tenant, people, count)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def utcnow() -> datetime:
    return datetime.now(UTC)
