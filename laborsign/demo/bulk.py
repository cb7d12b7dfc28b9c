"""The demo's second part: rows in bulk, cloned from what the walk made. Contracts in every
state, each with its two parties and a hash-chained audit trail, all sharing the walk's real
PDFs (launched, signed by the worker, signed by both). PostgreSQL loads by COPY, SQLite by
executemany, a batch per transaction."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import JSON, Column, ForeignKeyConstraint, Index, MetaData, Table, UniqueConstraint, select
from sqlalchemy import text as text_sql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import AddConstraint, CreateIndex

from ..core.contracts import GENESIS
from ..core.crypto import FieldCipher
from ..core.identity_rules import mask_id_number
from ..core.ids import new_id
from ..storage.accounts import enterprises
from ..storage.contracts import contracts, events, parties
from ..storage.counters import recount
from ..storage.labor import contract_terms
from ..storage.roster import departments, employees
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


ENDED_REASON = {"withdrawn": "岗位调整", "declined": "薪资与约定不符"}
# What differs from one bulk contract to the next: only these are sent (to a staging table);
# the rest (controls, files, the parties' set-up, the template...) one INSERT … SELECT takes
# from the walk's completed contract, which every bulk contract clones.
STAGED = (
    "id", "enterprise_id", "employee_id", "worker_name", "worker_phone", "created_at", "launched_at", "status",
    "document_blob", "document_sha256", "completed_at", "sign_deadline", "ended_reason", "values",
    "awaiting_worker", "awaiting_enterprise", "version", "enterprise_party", "fixed_term_end",
)  # fmt: skip
NOT_CLONED = ("worker_user_id", "last_reminded_at", "reinitiated_from")  # NULL in every bulk contract
STAGE = Table("demo_contracts", MetaData(), *(Column(name, contracts.c[name].type) for name in STAGED))
# The tables a demo fills in bulk: their secondary indexes are built once after the load.
BULK_TABLES = (contracts, parties, events, employees, contract_terms)


# An employee as its contracts show it: id, then the values of WORKER_KEYS.
Person = tuple[str, str, str, str, str, str, str]
# The contract values that are the worker's own (WorkerCard.prefill's keys), in Person's order.
WORKER_KEYS = (
    "worker_name", "worker_phone", "worker_id_number", "worker_gender", "worker_birth_date", "worker_department",
)  # fmt: skip
# The values that differ per contract beyond the worker's: a bulk contract's facts are the
# Person, then its tenant's name and credit code, then its term's first and last day.
FACT_KEYS = (
    *WORKER_KEYS,
    "enterprise_name",
    "enterprise_credit_code",
    "contract_start_date",
    "contract_end_date",
)
TERM_YEARS = (1, 2, 3)  # fixed terms of a bulk contract, picked evenly


class Tenant(NamedTuple):
    """An enterprise the bulk rows go to, as its contracts name it."""

    id: str
    name: str
    credit_code: str


def _json_text(value: str) -> str:
    """`value` as it stands between the quotes of a JSON string."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _money(value: Any) -> str | None:
    """Yuan as the text contract_terms keeps (COPY takes no Decimal for a text column)."""
    return None if value is None else format(value, "f")


def years_later(day: date, years: int) -> date:
    """The same day `years` later (28 February for a 29th without a leap year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass
class Plan:
    enterprises: int
    employees: int
    contracts: int
    jobs: int = 1  # processes loading contracts (PostgreSQL)


def new_ids(count: int) -> list[str]:
    """`count` ids shaped as core.ids.new_id makes them (the millisecond, then 80 random
    bits), from one read of the random source."""
    millis = f"{time.time_ns() // 1_000_000:012x}"
    noise = os.urandom(10 * count).hex()
    return [millis + noise[k : k + 20] for k in range(0, 20 * count, 20)]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _state(rng: random.Random) -> tuple[str, bool, bool, str | None]:
    pick, acc = rng.random(), 0.0
    for share, *rest in STATES:
        acc += share
        if pick < acc:
            return rest[0], rest[1], rest[2], rest[3]  # type: ignore[return-value]
    return "completed", True, True, "completed"


class RawJSON(str):
    """JSON text already serialised (a per-row object built from a template), stored as it is."""


class Loader:
    """Writes rows of one table a batch at a time, the fastest way each database takes them:
    tuples in the table's column order; COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    async def load(self, table: Table, rows: list[dict[str, Any]]) -> None:
        names = [c.name for c in table.columns]
        await self.load_tuples(table, [tuple(map(row.__getitem__, names)) for row in rows])

    async def load_tuples(self, table: Table, records: Sequence[Sequence[Any]]) -> None:
        if not records:
            return
        columns = list(table.columns)
        names = [c.name for c in columns]
        is_json = [isinstance(getattr(c.type, "impl", c.type), JSON) for c in columns]
        if self.pg:
            convert: list[Any] = [None] * len(columns)
        else:
            convert = [c.type.bind_processor(self.conn.dialect) for c in columns]
        dumped: dict[tuple[int, int], Any] = {}  # most JSON values are one object shared by every row

        def as_json(k: int, value: Any) -> Any:
            if value is None or type(value) is RawJSON:
                return str(value) if value is not None else None
            key = (k, id(value))
            if key not in dumped:
                fn = convert[k]
                dumped[key] = fn(value) if fn is not None else json.dumps(value, ensure_ascii=False)
            return dumped[key]

        plan = [
            (k, (lambda v, k=k: as_json(k, v)) if is_json[k] else convert[k])
            for k in range(len(columns))
            if is_json[k] or convert[k] is not None
        ]
        if plan:
            out = []
            for record in records:
                row = list(record)
                for k, fn in plan:
                    if row[k] is not None:
                        row[k] = fn(row[k])
                out.append(row)
            records = out
        if self.pg:
            await self.conn.execute(text_sql("SET LOCAL synchronous_commit = off"))
            raw = await self.conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(table.name, records=records, columns=names)  # type: ignore[union-attr]
            return
        quoted = ", ".join(f'"{n}"' for n in names)
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(names))})'
        raw = await self.conn.get_raw_connection()
        await raw.driver_connection.executemany(sql, records)  # type: ignore[union-attr]


async def _row(conn: AsyncConnection, table: Table, row_id: str) -> dict[str, Any]:
    found = (await conn.execute(select(table).where(table.c.id == row_id))).mappings().one()
    return dict(found)


NO_DETAILS: dict[str, Any] = {}


class ChainText:
    """canonical_event's bytes for the bulk events' shape (no details; ip and user agent the
    walk's), joined from pieces made once: per actor, per (kind, method), per seq. The same
    bytes as canonical_event (tests/test_lists.py checks the chains with verify_chain)."""

    def __init__(self, ip: str, user_agent: str) -> None:
        self.ip, self.user_agent = ip, user_agent
        self.heads: dict[tuple[str, str | None, str], str] = {}
        self.middles: dict[tuple[str, str | None], str] = {}
        self.tails: dict[int, str] = {}

    def hash(self, contract_id: str, seq: int, prev: str, kind: str, at: datetime,
             actor: tuple[str, str | None, str], sha: str, method: str | None) -> str:  # fmt: skip
        """contract_id, kind, sha and prev are hex or ASCII words, written by json.dumps as they are."""
        head = self.heads.get(actor)
        if head is None:
            head = self.heads[actor] = (
                f'{{"actor_id":{_dumps(actor[1])},"actor_name":{_dumps(actor[2])},"actor_type":{_dumps(actor[0])},"at":"'
            )  # fmt: skip
        middle = self.middles.get((kind, method))
        if middle is None:
            middle = self.middles[kind, method] = (
                f'","ip":{_dumps(self.ip)},"kind":{_dumps(kind)},"method":{_dumps(method)},"prev_hash":"'
            )  # fmt: skip
        tail = self.tails.get(seq)
        if tail is None:
            tail = self.tails[seq] = f'","seq":{seq},"user_agent":{_dumps(self.user_agent)}}}'
        text = (f'{head}{at.isoformat()}","contract_id":"{contract_id}","details":{{}},"document_sha256":"{sha}'
                f"{middle}{prev}{tail}")  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()


def _dumps(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


class Seeder:
    def __init__(
        self, walked: Walked, cipher: FieldCipher, now: datetime, seed: int = 17, jobs: int = 1
    ) -> None:
        self.w, self.cipher, self.now, self.jobs = walked, cipher, now, jobs
        self.rng = random.Random(seed)
        self.serial = 0
        self.timings: dict[str, float] = {}  # seconds of the phases that are not the rows themselves

    async def run(self, engine: AsyncEngine, plan: Plan) -> dict[str, int]:
        async with engine.connect() as conn:
            self.contract_row = await _row(conn, contracts, self.w.completed_id)
            self.employee_row = await _row(conn, employees, self.contract_row["employee_id"])
            self.enterprise_row = await _row(conn, enterprises, self.w.enterprise_id)
            first = (await conn.execute(select(events).where(events.c.contract_id == self.w.completed_id)
                                        .order_by(events.c.seq).limit(1))).mappings().one()  # fmt: skip
            self.event_base = dict(first)
            term = (await conn.execute(select(contract_terms).where(
                contract_terms.c.contract_id == self.w.completed_id))).mappings().one_or_none()  # fmt: skip
            self.term_row = dict(term) if term else None
            self.department_names = dict((await conn.execute(
                select(departments.c.id, departments.c.name).where(departments.c.enterprise_id == self.w.enterprise_id)
            )).tuples().all())  # fmt: skip
        tenants = [Tenant(self.w.enterprise_id, self.w.enterprise_name, self.w.credit_code)]
        async with engine.begin() as conn:
            extra = []
            for i in range(1, plan.enterprises):
                row = {**self.enterprise_row, "id": new_id(), "credit_code": random_credit_code(),
                       "name": f"{self.w.enterprise_name[:-6]}第{i}分公司有限公司"}  # fmt: skip
                extra.append(row)
                tenants.append(Tenant(row["id"], row["name"], row["credit_code"]))
            await Loader(conn).load(enterprises, extra)
        made = {"enterprises": len(tenants), "employees": 0, "contracts": 0}
        async with secondary_indexes_later(engine, BULK_TABLES, self.timings):
            work: list[tuple[Tenant, list[Person], int]] = []
            for k, tenant in enumerate(tenants):
                people = await self._employees(engine, tenant.id, _share(plan.employees, len(tenants), k))
                made["employees"] += len(people)
                work.append((tenant, people, _share(plan.contracts, len(tenants), k)))
            made["contracts"] = await self._contracts(engine, work)
        started = time.perf_counter()
        # The rows came in around the storage session: its counters and coverage are rebuilt.
        async with engine.begin() as conn:
            await conn.run_sync(recount, [tenant.id for tenant in tenants])
        self.timings["counters"] = time.perf_counter() - started
        started = time.perf_counter()
        await refresh_statistics(engine)
        self.timings["statistics"] = time.perf_counter() - started
        return made

    async def _contracts(self, engine: AsyncEngine, work: list[tuple[Tenant, list[Person], int]]) -> int:
        """PostgreSQL takes COPY streams side by side: a process per core makes and loads a
        share of every tenant (the rows cost more Python than the database spends on them)."""
        total = sum(count for _, _, count in work)
        jobs = self.jobs if engine.dialect.name == "postgresql" and total >= 4 * BATCH else 1
        makers = [
            ContractMaker(
                self.w,
                self.contract_row,
                self.event_base,
                self.term_row,
                self.now,
                self.rng.randrange(1 << 30),
            )
            for _ in range(jobs)
        ]
        shares = [
            [(tenant, people, _share(count, jobs, k)) for tenant, people, count in work] for k in range(jobs)
        ]
        if jobs == 1:
            return sum([await makers[0].load(engine, *share) for share in shares[0]])
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        url = engine.url.render_as_string(hide_password=False)
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            done = await asyncio.gather(*(
                loop.run_in_executor(pool, load_in_process, url, maker, share)
                for maker, share in zip(makers, shares, strict=True)
            ))  # fmt: skip
        return sum(done)

    async def _employees(self, engine: AsyncEngine, tenant: str, count: int) -> list[Person]:
        people: list[Person] = []
        for chunk in _chunks(count, BATCH):
            rows = []
            for employee_id in sorted(
                new_ids(chunk)
            ):  # ascending: each batch fills the primary key's last pages
                self.serial += 1
                born = datetime(1965, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 40))
                number = resident_id(self.rng.choice(REGIONS), born.strftime("%Y%m%d"), self.serial % 1000)
                # Unique per run: the serial spreads over the birth date's hundreds too.
                name, phone = _name(self.rng), f"1{self.rng.choice('3589')}{self.serial:09d}"
                row = {
                    **self.employee_row, "id": employee_id, "enterprise_id": tenant, "user_id": None,
                    "name": name, "phone": phone, "gender": "male" if self.serial % 2 else "female",  # the ID's 17th digit
                    "id_number_enc": self.cipher.encrypt(number, "employees.id_number"),
                    "id_number_hash": self.cipher.blind_index(number, "id_number"),
                    "id_number_masked": mask_id_number(number), "birth_date": born.date(),
                    "department_id": self.rng.choice(self.w.department_ids[1:]) if tenant == self.w.enterprise_id
                    else None, "onboarding_id": None,
                    "created_at": self.now - timedelta(seconds=self.rng.randrange(1, 86400 * 720)),
                }  # fmt: skip
                rows.append(row)
                gender = "男" if row["gender"] == "male" else "女"
                department = self.department_names.get(row["department_id"], "")
                people.append(
                    (row["id"], name, phone, number, gender, born.date().isoformat(), _json_text(department))
                )
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
    term_row: dict[str, Any] | None  # the walk's completed contract's term, which bulk ones clone
    now: datetime
    seed: int

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.chain = ChainText(self.event_base["ip"], self.event_base["user_agent"])

    async def load(self, engine: AsyncEngine, tenant: Tenant, people: list[Person], count: int) -> int:
        if not people:
            return 0
        for chunk in _chunks(count, BATCH):
            c_rows, p_rows, e_rows, t_rows = self.make(tenant, people, chunk)
            async with engine.begin() as conn:
                loader = Loader(conn)
                await self.load_contracts(conn, c_rows)
                await loader.load_tuples(parties, p_rows)
                await loader.load_tuples(events, e_rows)
                await loader.load_tuples(contract_terms, t_rows)
        return count

    async def load_contracts(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        """Contract rows of STAGED columns into a staging table (COPY on PostgreSQL), then into
        contracts with the walked contract's other columns, in one statement."""
        staged = ", ".join(f'"{n}"' for n in STAGED)
        await conn.execute(
            text_sql(f"CREATE TEMP TABLE {STAGE.name} AS SELECT {staged} FROM contracts WHERE 1 = 0")
        )
        await Loader(conn).load_tuples(STAGE, rows)
        names = [c.name for c in contracts.columns]
        into = ", ".join(f'"{n}"' for n in names)
        picked = ", ".join(
            f's."{n}"' if n in STAGED else "NULL" if n in NOT_CLONED else f'w."{n}"' for n in names
        )
        await conn.execute(
            text_sql(f"INSERT INTO contracts ({into}) SELECT {picked} "
                     f"FROM {STAGE.name} AS s JOIN contracts AS w ON w.id = :walked"),
            {"walked": self.contract_row["id"]},
        )  # fmt: skip
        await conn.execute(text_sql(f"DROP TABLE {STAGE.name}"))

    def make(
        self, tenant: Tenant, people: list[Person], count: int
    ) -> tuple[list[tuple[Any, ...]], list[list[Any]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """`count` contracts of one tenant as rows: contracts of STAGED columns, parties,
        events and terms in their tables' column order. Each names its
        own tenant (甲方 in its values, its enterprise party) and runs a fixed term of
        TERM_YEARS from the day it was made, so expiries spread over the coming years."""
        launched, worker_signed, final = self.w.versions[0]
        sealed_first = self.w.versions[1][-1]
        docs = (launched, worker_signed, final, sealed_first)
        hr = ("enterprise", self.w.user_ids["hr"], self.w.hr_name)
        *values, (values_tail, _) = self._values_template()
        party = RawJSON(json.dumps({**self.contract_row["enterprise_party"], "name": tenant.name,
                                    "credit_code": tenant.credit_code}, ensure_ascii=False))  # fmt: skip
        named = (_json_text(tenant.name), _json_text(tenant.credit_code))
        term = self.term_row
        wages = (_money(term["monthly_wage"]), _money(term["probation_wage"])) if term else (None, None)
        probation = (
            term["probation_end_date"] - term["start_date"]
            if term and term["probation_end_date"] and term["start_date"] else None
        )  # fmt: skip
        # Ids ascending within the batch (and batch after batch: the millisecond leads), so the
        # primary keys take each batch into their last pages instead of all over the index.
        c_ids, p_ids, e_ids = (
            sorted(new_ids(count)),
            sorted(new_ids(2 * count)),
            iter(sorted(new_ids(5 * count))),
        )
        rng = self.rng
        c_rows: list[tuple[Any, ...]] = []
        p_rows: list[list[Any]] = []
        e_rows: list[tuple[Any, ...]] = []
        t_rows: list[tuple[Any, ...]] = []
        for k in range(count):
            person = rng.choice(people)
            employee_id, name, phone = person[:3]
            status, w_signed, e_signed, ending = _state(rng)
            created = self.now - timedelta(seconds=rng.randrange(60, 86400 * 720))
            cid = c_ids[k]
            start = created.date()
            end = years_later(start, rng.choice(TERM_YEARS))
            facts = (*person, *named, start.isoformat(), end.isoformat())
            w_at = created + timedelta(hours=rng.randrange(1, 48)) if w_signed else None
            e_at = (w_at or created) + timedelta(hours=rng.randrange(1, 24)) if e_signed else None
            ended = e_at if w_signed and e_signed else None
            if ending and not ended:
                ended = created + timedelta(days=rng.randrange(1, 30))
            document = (
                final if e_signed and w_signed else worker_signed if w_signed else sealed_first if e_signed
                else launched
            )  # fmt: skip
            c_rows.append((  # STAGED
                cid, tenant.id, employee_id, name, phone, created, created, status, document, document, ended,
                created + timedelta(days=30) if ending == "expired" else None, ENDED_REASON.get(ending or ""),
                RawJSON("".join(part + facts[i] for part, i in values) + values_tail),
                status == "signing" and not w_signed, status == "signing" and not e_signed,
                int(w_signed) + int(e_signed), party, end if term else None,
            ))  # fmt: skip
            if term:  # a launch records the term of every contract, signed or not
                # contract_terms: contract_id, type, start_date, end_date, probation_end_date,
                # monthly_wage, probation_wage, position, work_place, renewal_of
                t_rows.append((cid, "fixed", start, end, start + probation if probation else None,
                               *wages, term["position"], term["work_place"], None))  # fmt: skip
            # contract_parties: id, contract_id, role, name, status, user_id, signed_at, method, decline_reason
            p_rows.append([p_ids[2 * k], cid, "worker", name,
                           "signed" if w_signed else ("declined" if ending == "declined" else "pending"),
                           None, w_at, "sms" if w_signed else None,
                           ENDED_REASON["declined"] if ending == "declined" else None])  # fmt: skip
            p_rows.append([p_ids[2 * k + 1], cid, "enterprise", tenant.name,
                           "signed" if e_signed else "pending", self.w.user_ids["hr"] if e_signed else None,
                           e_at, "sms" if e_signed else None, None])  # fmt: skip
            e_rows.extend(self._trail(cid, created, docs, w_at, e_at, ended, ending, (name, hr), e_ids))
        return c_rows, p_rows, e_rows, t_rows

    def _values_template(self) -> list[tuple[str, int]]:
        """The walk's contract values as JSON text around each contract's own (those of
        FACT_KEYS it has): [(text before, index in the facts)], then (the tail, 0)."""
        order = list(self.contract_row["values"])
        own = sorted(((key, k) for k, key in enumerate(FACT_KEYS, start=1) if key in order),
                     key=lambda pair: order.index(pair[0]))  # fmt: skip
        marks = {key: f"\ue000{k}\ue000" for key, k in own}
        text = json.dumps({**self.contract_row["values"], **marks}, ensure_ascii=False)
        parts: list[tuple[str, int]] = []
        for key, k in own:
            head, text = text.split(f'"{marks[key]}"')
            parts.append((head + '"', k))
            text = '"' + text
        return [*parts, (text, 0)]

    def _trail(self, cid: str, created: datetime, docs: tuple[str, str, str, str],
               w_at: datetime | None, e_at: datetime | None, ended: datetime | None, ending: str | None,
               who: tuple[str, tuple[str, str | None, str]], ids: Iterator[str]) -> Iterator[tuple[Any, ...]]:  # fmt: skip
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
        prev, ip, agent, chain = GENESIS, self.chain.ip, self.chain.user_agent, self.chain.hash
        for seq, (kind, at, actor, sha, method) in enumerate(steps, start=1):
            sealed = chain(cid, seq, prev, kind, at, actor, sha, method)
            # contract_events' columns: id, contract_id, seq, kind, at, actor_type, actor_id,
            # actor_name, ip, user_agent, method, document_sha256, details, prev_hash, hash
            yield (next(ids), cid, seq, kind, at, *actor, ip, agent, method, sha, NO_DETAILS, prev, sealed)
            prev = sealed


def _unique_constraints(table: Table) -> list[UniqueConstraint]:
    return sorted((c for c in table.constraints if isinstance(c, UniqueConstraint) and c.name),
                  key=lambda c: str(c.name))  # fmt: skip


def _foreign_keys(table: Table) -> list[ForeignKeyConstraint]:
    return sorted((c for c in table.constraints if isinstance(c, ForeignKeyConstraint) and c.name),
                  key=lambda c: str(c.name))  # fmt: skip


def _indexes(table: Table) -> list[Index]:
    return sorted(table.indexes, key=lambda ix: str(ix.name))


@asynccontextmanager
async def secondary_indexes_later(
    engine: AsyncEngine, tables: Sequence[Table], timings: dict[str, float] | None = None
) -> AsyncIterator[None]:
    """Loads into `tables` without their secondary indexes (and, on PostgreSQL, their unique and
    foreign-key constraints): dropped before, built again from the schema's own definitions
    afterwards — whether the load finished or failed. Building an index once from sorted
    entries costs a fraction of keeping it up to date row by row."""
    await drop_secondary_indexes(engine, tables)
    try:
        yield
    finally:
        started = time.perf_counter()
        await restore_secondary_indexes(engine, tables)
        if timings is not None:
            timings["indexes"] = time.perf_counter() - started


async def drop_secondary_indexes(engine: AsyncEngine, tables: Sequence[Table]) -> None:
    async with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        for table in tables:
            if pg:
                for constraint in (*_foreign_keys(table), *_unique_constraints(table)):
                    await conn.execute(text_sql(f'ALTER TABLE "{table.name}" DROP CONSTRAINT IF EXISTS "{constraint.name}"'))  # fmt: skip
            for index in _indexes(table):
                await conn.execute(text_sql(f'DROP INDEX IF EXISTS "{index.name}"'))


async def restore_secondary_indexes(engine: AsyncEngine, tables: Sequence[Table], builders: int = 2) -> None:
    """Every index and constraint of `tables` as the schema declares them (the migrations make
    the same: tests/test_config_and_schema.py compares them); those still there are left. On
    PostgreSQL `builders` connections build the indexes side by side (CREATE INDEX locks do not
    conflict); the constraints follow one by one, as ALTER TABLE takes stronger locks."""
    pending = [index for table in tables for index in _indexes(table)]
    pg = engine.dialect.name == "postgresql"

    async def build() -> None:
        async with engine.connect() as conn:
            if pg:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text_sql("SET maintenance_work_mem = '128MB'"))
            while pending:
                await conn.execute(CreateIndex(pending.pop(0), if_not_exists=True))
            if not pg:
                await conn.commit()

    done = await asyncio.gather(*(build() for _ in range(builders if pg else 1)), return_exceptions=True)
    failed = [outcome for outcome in done if isinstance(outcome, BaseException)]
    if failed:
        raise failed[0]
    if not pg:
        return
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text_sql("SET maintenance_work_mem = '256MB'"))
        for table in tables:
            present = set((await conn.execute(
                text_sql("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"), {"t": table.name}
            )).scalars())  # fmt: skip
            for constraint in (*_unique_constraints(table), *_foreign_keys(table)):
                if constraint.name not in present:
                    await conn.execute(AddConstraint(constraint))


async def refresh_statistics(engine: AsyncEngine, workers: int = 2) -> None:
    """The planner's statistics and PostgreSQL's visibility map (index-only scans) for the
    tables just filled, instead of waiting for autovacuum; on PostgreSQL `workers` connections
    vacuum side by side, the biggest table first (VACUUM cannot run in one transaction with
    another, but two sessions on different tables do not wait for each other)."""
    pending = ["contract_events", "contracts", "contract_parties", "employees", "contract_terms"]  # biggest first
    if engine.dialect.name != "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text_sql("ANALYZE"))
            await conn.commit()
        return

    async def vacuum() -> None:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            while pending:
                await conn.execute(text_sql(f"VACUUM (ANALYZE) {pending.pop(0)}"))

    done = await asyncio.gather(*(vacuum() for _ in range(workers)), return_exceptions=True)
    failed = [outcome for outcome in done if isinstance(outcome, BaseException)]
    if failed:
        raise failed[0]


def load_in_process(url: str, maker: ContractMaker, share: list[tuple[Tenant, list[Person], int]]) -> int:
    from ..storage.db import make_engine

    async def run() -> int:
        engine = make_engine(url, 1, False)
        try:
            return sum([await maker.load(engine, *part) for part in share])
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
