"""The outbox deliverer: sends what state changes wrote into the outbox.

Rows are claimed with a lease (safe with several processes: PostgreSQL skips rows another
process has locked, and every claim is a compare-and-set), sent through the channel's sender,
then marked sent, retried with exponential backoff, or dead-lettered. A per-recipient rate
limit keeps chat platforms from dropping messages (WeCom drops more than 30 a minute to one
member). SMS goes to the operator's gateway (bots/sms.py) with the same retries; with the
`outbox` provider it is "delivered" by marking it sent: the message stays stored for the
development inbox."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..core import outbox as ob
from ..core.chat import DeadLetter
from ..core.outbox import OutboxMessage
from ..core.ports import Deps, UnitOfWork
from ..core.values import mask_phone
from .channels import Sender, SendError, registry

log = logging.getLogger("laborsign.bots.outbox")

Expander = Callable[[Deps, UnitOfWork, OutboxMessage], Awaitable[None]]


@dataclass
class RateLimit:
    per_minute: int


DEFAULT_LIMITS = {a.name: RateLimit(a.per_minute) for a in registry.ADAPTERS}


@dataclass
class PassStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    postponed: int = 0
    expanded: int = 0
    released: int = 0  # claimed, then handed back untried because the deliverer is stopping
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead + self.postponed + self.expanded


class Deliverer:
    def __init__(
        self,
        deps: Deps,
        senders: dict[str, Sender],
        expanders: dict[str, Expander] | None = None,
        *,
        limits: dict[str, RateLimit] | None = None,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=2),
        concurrency: int = 8,
    ) -> None:
        self.deps = deps
        self.senders = senders
        self.expanders = expanders or {}
        self.limits = DEFAULT_LIMITS if limits is None else limits
        self.batch = batch
        self.lease = lease
        self.concurrency = concurrency
        self.wakeup = asyncio.Event()
        self.waiting = asyncio.Event()  # set while run_forever waits for work
        self._stopping = False
        self.housekeeping: list[Callable[[], Awaitable[None]]] = []

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """Asks the deliverer to stop: no new batch is claimed, messages being sent are
        finished and recorded, and claimed ones not yet started are handed back at once."""
        self._stopping = True
        self.wakeup.set()

    async def run_once(self) -> PassStats:
        """One pass over everything due now. Tests call this instead of waiting."""
        stats = PassStats()
        for job in self.housekeeping:
            await job()
        while not self._stopping:
            now = self.deps.clock.now()
            async with self.deps.uow() as uow:
                claimed = await uow.outbox_queue.claim_due(now, self.lease, self.batch)
                await uow.commit()
            if not claimed:
                break
            await self._deliver_batch(claimed, stats)
            if len(claimed) < self.batch:
                break
        return stats

    async def _deliver_batch(self, claimed: list[OutboxMessage], stats: PassStats) -> None:
        # One recipient's messages go in order, one at a time; recipients in parallel.
        by_recipient: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for message in claimed:
            by_recipient[(message.channel, message.recipient)].append(message)
        gate = asyncio.Semaphore(self.concurrency)
        unstarted: list[OutboxMessage] = []

        async def one_recipient(messages: list[OutboxMessage]) -> None:
            async with gate:
                for i, message in enumerate(messages):
                    if self._stopping:
                        unstarted.extend(messages[i:])
                        return
                    await self._deliver(message, stats)

        await asyncio.gather(*(one_recipient(ms) for ms in by_recipient.values()))
        if unstarted:
            await self._hand_back(unstarted, stats)

    async def _hand_back(self, claimed: list[OutboxMessage], stats: PassStats) -> None:
        """Ends the lease of claimed messages never tried, so another process (or the next
        start) sends them now rather than when the lease runs out."""
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            for mine in claimed:
                if await uow.outbox_queue.release(mine.id, mine.next_attempt_at, now):
                    stats.released += 1
            await uow.commit()

    async def run_forever(self, idle: float = 1.0) -> None:
        """Passes until `stop()`; between passes waits up to `idle` seconds for a wake-up."""
        while not self._stopping:
            try:
                stats = await self.run_once()
                if stats.handled:
                    continue
            except Exception:
                log.exception("outbox pass failed")
            await self._wait_for_work(idle)

    async def _wait_for_work(self, idle: float) -> None:
        if self._stopping:
            return
        self.wakeup.clear()
        self.waiting.set()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns a wake-up that
            # lands with the shutdown's cancellation and drops the cancellation (CPython
            # gh-86296), which left this loop running for ever.
            async with asyncio.timeout(idle):
                await self.wakeup.wait()
        except TimeoutError:
            pass
        finally:
            self.waiting.clear()

    async def _deliver(self, claimed: OutboxMessage, stats: PassStats) -> None:
        try:
            await self._deliver_one(claimed, stats)
        except Exception as exc:  # never lose the row: it comes back when the lease ends
            log.exception("outbox delivery crashed", extra={"message_id": claimed.id})
            stats.errors.append(f"{claimed.id}: {exc}")

    async def _deliver_one(self, claimed: OutboxMessage, stats: PassStats) -> None:
        channel = claimed.channel
        if channel == ob.Channel.SMS and channel not in self.senders:
            # The outbox provider: nothing is sent, the message stays stored for the development
            # inbox — a code stays readable there until it expires (the redaction job).
            await self._finish(claimed.id, stats, sent=True, delivered=False)
            return
        expander = self.expanders.get(channel)
        if expander is not None:
            async with self.deps.uow() as uow:
                message = await uow.get(OutboxMessage, claimed.id)
                if message is None or message.status != ob.OutboxStatus.PENDING:
                    return
                await expander(self.deps, uow, message)
                message.mark_sent(self.deps.clock.now())
                await uow.commit()
            stats.expanded += 1
            return
        sender = self.senders.get(channel)
        if sender is None:
            await self._finish(claimed.id, stats, error=f"channel {channel} is not enabled", permanent=True)
            return
        if await self._postponed(claimed, stats):
            return
        try:
            await sender.send(claimed)
        except SendError as exc:
            unfollowed = sender.app_id if exc.unfollowed else None
            await self._finish(
                claimed.id, stats, error=str(exc), permanent=exc.permanent, unfollowed=unfollowed
            )
            return
        except Exception as exc:
            await self._finish(claimed.id, stats, error=f"{type(exc).__name__}: {exc}")
            return
        await self._finish(claimed.id, stats, sent=True)

    async def _postponed(self, message: OutboxMessage, stats: PassStats) -> bool:
        limit = self.limits.get(message.channel)
        if limit is None:
            return False
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            recent = await uow.outbox_queue.sent_since(
                message.channel, message.recipient, now - timedelta(minutes=1)
            )
            if len(recent) < limit.per_minute:
                return False
            row = await uow.get(OutboxMessage, message.id)
            if row is not None:
                row.postpone(min(recent) + timedelta(minutes=1, seconds=1))
                await uow.commit()
        stats.postponed += 1
        return True

    async def _finish(
        self,
        message_id: str,
        stats: PassStats,
        *,
        sent: bool = False,
        delivered: bool = True,
        error: str = "",
        permanent: bool = False,
        unfollowed: str | None = None,  # the app the recipient does not follow
    ) -> None:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            message = await uow.get(OutboxMessage, message_id)
            if message is None or message.status != ob.OutboxStatus.PENDING:
                return
            if unfollowed is not None:
                identity = await uow.chat.identity(message.channel, unfollowed, message.recipient)
                if identity is not None:
                    identity.unsubscribe(now)  # we missed the event, or it never came
            if sent:
                message.mark_sent(now)
                stats.sent += 1
                if delivered and message.kind == "sms_code":
                    message.redact_code(now)  # the phone has it; the table must not
            elif message.fail(error, now, permanent):
                stats.dead += 1
                self._bury(uow, message, now)
                if message.kind == "sms_code":
                    message.redact_code(now)
                log.warning(
                    "outbox message dead",
                    extra={"message_id": message.id, "channel": message.channel, "error": error[:200]},
                )
            else:
                stats.retried += 1
            await uow.commit()

    def _bury(self, uow: UnitOfWork, message: OutboxMessage, now: datetime) -> None:
        recipient = message.recipient
        masked = mask_phone(recipient) if message.channel == ob.Channel.SMS else recipient[:6] + "…"
        uow.add(
            DeadLetter(
                message_id=message.id,
                channel=message.channel,
                recipient_masked=masked,
                kind=message.kind,
                text=message.text[:500] if message.kind != "sms_code" else "（验证码短信）",
                attempts=message.attempts,
                last_error=message.last_error or "",
                died_at=now,
                enterprise_id=message.payload.get("enterprise_id"),
            )
        )
        phone = message.payload.get("fallback_phone")
        if phone and message.channel != ob.Channel.SMS:
            # The chat did not reach the person: SMS is the channel that reaches everyone.
            link = message.payload.get("link")
            text = f"{message.text} {link}" if link else message.text
            uow.outbox.add(
                ob.sms(
                    phone, message.kind, text, now, link=link, fallback_for=message.id,
                    sms=message.payload.get("sms") or {},
                )
            )  # fmt: skip
