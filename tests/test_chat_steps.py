"""The chat hot path's storage (storage/chat_steps.py), as two processes share it: a step is
stored whole or not at all, a message once, a conversation changed meanwhile is a conflict
(the engine then steps again on fresh state), and what the ORM reads is what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from laborsign.core import outbox as ob
from laborsign.core.chat import ChatIdentity, ChatStep, Conversation, InboundMessage, StepConflict
from laborsign.core.errors import Forbidden
from laborsign.core.replay import SeenKey, callback_key
from laborsign.storage.db import Database

NOW = datetime(2026, 12, 2, 8, 30, 15, 250000, tzinfo=UTC)


def inbound(key: str, reply: str) -> InboundMessage:
    return InboundMessage("wechat", "wxapp", key, NOW, reply=reply, done_at=NOW)


async def test_two_processes_step_one_person(database_url: str) -> None:
    one, two = Database(database_url), Database(database_url)
    try:
        identity = ChatIdentity("wechat", "wxapp", "openid-1", NOW)
        conv = Conversation(
            identity_id=identity.id, channel="wechat", app_id="wxapp", external_id="openid-1",
            flow="bind", state="phone", started_at=NOW, updated_at=NOW, expires_at=NOW, data={},
        )  # fmt: skip
        conv.restart("phone", {"来源": "扫码"}, NOW)
        reply = ob.chat("wechat", "openid-1", "reply", "请输入手机号", NOW)
        step = ChatStep(inbound("msg:1", "请输入手机号"), identity, [conv], [reply])
        assert await one.chat_steps.save(step) is None

        # The other process reads what was stored, and a retry of the message is answered
        # with the stored reply, nothing stepped.
        seen, _, _ = await two.chat_steps.person("wechat", "wxapp", "openid-1", "msg:1")
        assert seen is not None and seen.reply == "请输入手机号"
        _, read, conversations = await two.chat_steps.person("wechat", "wxapp", "openid-1", "msg:2")
        assert read is not None and read.id == identity.id and read.created_at == NOW
        [mine] = conversations
        assert (mine.state, mine.data, mine.expires_at, mine.version) == (
            "phone",
            {"来源": "扫码"},
            NOW + timedelta(hours=24),
            1,
        )

        # A step that changed nothing writes its message alone (no version moved).
        assert await two.chat_steps.save(ChatStep(inbound("msg:1b", ""), read, [mine], [])) is None
        assert mine.version == 1

        # Both processes step the person from the same state: the first write wins, the
        # second is a conflict and leaves nothing (not even its message's key).
        _, _, [theirs] = await one.chat_steps.person("wechat", "wxapp", "openid-1", "msg:3")
        mine.answer("phone", "13800000000", NOW)
        assert await two.chat_steps.save(ChatStep(inbound("msg:2", "ok"), read, [mine], [])) is None
        assert mine.version == 2
        theirs.cancel(NOW)
        with pytest.raises(StepConflict):
            await one.chat_steps.save(ChatStep(inbound("msg:3", "已取消"), identity, [theirs], []))
        assert (await one.chat_steps.person("wechat", "wxapp", "openid-1", "msg:3"))[0] is None

        # The same message delivered to both: stored once, the later gets the earlier's reply.
        _, again, [fresh] = await one.chat_steps.person("wechat", "wxapp", "openid-1", "msg:4")
        assert again is not None
        fresh.move_to("code", NOW)
        assert await one.chat_steps.save(ChatStep(inbound("msg:4", "first"), again, [fresh], [])) is None
        earlier = await two.chat_steps.save(ChatStep(inbound("msg:4", "second"), read, [mine], []))
        assert earlier is not None and earlier.reply == "first"

        async with two.uow() as uow:
            [conv_orm] = await uow.chat.conversations_of(identity.id)
            assert (conv_orm.state, conv_orm.history, conv_orm.data["phone"]) == (
                "code",
                ["phone"],
                "13800000000",
            )
            assert conv_orm.updated_at == NOW and conv_orm.version == 3
            [queued] = await uow.outbox.for_recipient("wechat", "openid-1")
            assert queued.text == "请输入手机号" and queued.created_at == NOW
    finally:
        await one.dispose()
        await two.dispose()


async def test_a_signed_callbacks_guard_commits_with_its_step(database_url: str) -> None:
    """A safe-mode callback's replay guard is written in its step's transaction: the first
    body and a platform's retry of it pass, the same signature over another body is refused
    in another process and stores nothing of its step — and a guard the step did not commit
    (a conflict) is not remembered either."""
    one, two = Database(database_url), Database(database_url)
    try:
        identity = ChatIdentity("wechat", "wxapp", "openid-g", NOW)
        first = callback_key("wechat", "wxapp:ts:nonce:sig:msgsig", b"<xml>body</xml>", NOW)
        reply = ob.chat("wechat", "openid-g", "reply", "您好", NOW)
        assert (
            await one.chat_steps.save(ChatStep(inbound("msg:g1", "您好"), identity, [], [reply], first))
            is None
        )

        forged = callback_key("wechat", "wxapp:ts:nonce:sig:msgsig", b"<xml>other</xml>", NOW)
        _, read, _ = await two.chat_steps.person("wechat", "wxapp", "openid-g", "msg:g2")
        assert read is not None
        read.bind("user-1", "13800000000", NOW)
        spam = ob.chat("wechat", "openid-g", "reply", "伪造", NOW)
        with pytest.raises(Forbidden) as refused:
            await two.chat_steps.save(ChatStep(inbound("msg:g2", "伪造"), read, [], [spam], forged))
        assert refused.value.code == "replayed"
        assert (await two.chat_steps.person("wechat", "wxapp", "openid-g", "msg:g2"))[0] is None
        _, again, _ = await one.chat_steps.person("wechat", "wxapp", "openid-g", "msg:g3")
        assert again is not None and again.user_id is None

        # The platform's retry (same signature, same body) is let through: the dedupe answers it.
        retry = callback_key("wechat", "wxapp:ts:nonce:sig:msgsig", b"<xml>body</xml>", NOW)
        earlier = await two.chat_steps.save(ChatStep(inbound("msg:g1", "again"), again, [], [], retry))
        assert earlier is not None and earlier.reply == "您好"

        # A step undone by a conflict leaves its guard unwritten: the same key passes later.
        stale = ChatIdentity("wechat", "wxapp", "openid-g", NOW)  # a second insert of the person
        lost = callback_key("wechat", "wxapp:ts2:nonce2:sig2:msgsig2", b"<xml>x</xml>", NOW)
        with pytest.raises(StepConflict):
            await one.chat_steps.save(ChatStep(inbound("msg:g4", ""), stale, [], [], lost))
        assert await admit_seen_first(two, lost)

        async with two.uow() as uow:
            texts = [m.text for m in await uow.outbox.for_recipient("wechat", "openid-g")]
        assert texts == ["您好"]
    finally:
        await one.dispose()
        await two.dispose()


async def admit_seen_first(db: Database, seen: SeenKey) -> bool:
    return await db.chat_steps.seen.remember(seen.scope, seen.key, seen.digest, seen.now, seen.until) is None


async def test_steps_written_together_stand_or_fall_alone(database_url: str) -> None:
    """On SQLite the writer commits what arrived together in one transaction (held up here
    by another connection's write lock, so that two steps queue behind a third): the step
    that conflicts is undone alone, the other one and its reply are stored. On PostgreSQL
    each step is its own statement; the same holds."""
    import asyncio
    import sqlite3

    from sqlalchemy.engine import make_url

    db = Database(database_url)
    try:
        first = ChatIdentity("wechat", "wxapp", "openid-a", NOW)
        conv = Conversation(
            identity_id=first.id, channel="wechat", app_id="wxapp", external_id="openid-a",
            flow="bind", state="phone", started_at=NOW, updated_at=NOW, expires_at=NOW, data={},
        )  # fmt: skip
        conv.restart("phone", {}, NOW)
        assert await db.chat_steps.save(ChatStep(inbound("msg:a1", ""), first, [conv], [])) is None
        _, _, [stale] = await db.chat_steps.person("wechat", "wxapp", "openid-a", "msg:a2")
        _, read, [fresh] = await db.chat_steps.person("wechat", "wxapp", "openid-a", "msg:a2")
        assert read is not None
        fresh.move_to("code", NOW)
        assert await db.chat_steps.save(ChatStep(inbound("msg:a2", ""), read, [fresh], [])) is None

        lock = None
        if make_url(database_url).get_backend_name() == "sqlite":
            lock = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
        other = ChatIdentity("wechat", "wxapp", "openid-b", NOW)
        ahead = asyncio.ensure_future(db.chat_steps.save(ChatStep(inbound("msg:b0", ""), other, [], [])))
        await asyncio.sleep(0)  # `ahead` queued
        jobs = getattr(db.chat_steps, "_jobs", None)
        while jobs is not None and not jobs.empty():  # noqa: ASYNC110 (the writer is a thread)
            await asyncio.sleep(0.001)
        stale.cancel(NOW)  # read before `fresh` was written: a conflict
        lost = ob.chat("wechat", "openid-a", "reply", "已取消", NOW)
        kept = ob.chat("wechat", "openid-c", "reply", "您好", NOW)
        together = asyncio.gather(
            db.chat_steps.save(ChatStep(inbound("msg:a3", "已取消"), read, [stale], [lost])),
            db.chat_steps.save(
                ChatStep(
                    inbound("msg:c1", "您好"), ChatIdentity("wechat", "wxapp", "openid-c", NOW), [], [kept]
                )
            ),
            return_exceptions=True,
        )
        await asyncio.sleep(0)
        if lock is not None:
            lock.execute("COMMIT")
            lock.close()
        assert await ahead is None
        conflict, stored = await together
        assert isinstance(conflict, StepConflict) and stored is None

        seen, _, [conv_now] = await db.chat_steps.person("wechat", "wxapp", "openid-a", "msg:a3")
        assert seen is None and conv_now.state == "code" and conv_now.status == "active"
        seen, _, _ = await db.chat_steps.person("wechat", "wxapp", "openid-c", "msg:c1")
        assert seen is not None and seen.reply == "您好"
        async with db.uow() as uow:
            assert await uow.outbox.for_recipient("wechat", "openid-a") == []
            assert [m.text for m in await uow.outbox.for_recipient("wechat", "openid-c")] == ["您好"]
    finally:
        await db.dispose()


async def test_the_store_built_message_is_what_the_orm_reads(database_url: str) -> None:
    db = Database(database_url)
    try:
        message = db.chat_steps.message("wechat", "wxapp", "msg:m1", NOW, "您好", NOW + timedelta(seconds=1))
        identity = ChatIdentity("wechat", "wxapp", "openid-m", NOW)
        assert await db.chat_steps.save(ChatStep(message, identity, [], [])) is None
        async with db.uow() as uow:
            stored = await uow.chat.inbound("wechat", "wxapp", "msg:m1")
            assert stored is not None
            assert (stored.id, stored.reply, stored.received_at, stored.done_at) == (
                message.id,
                "您好",
                NOW,
                NOW + timedelta(seconds=1),
            )
        again = db.chat_steps.message("wechat", "wxapp", "msg:m1", NOW, "又一次", NOW)
        _, read, _ = await db.chat_steps.person("wechat", "wxapp", "openid-m", "msg:m2")
        assert read is not None
        earlier = await db.chat_steps.save(ChatStep(again, read, [], []))
        assert earlier is not None and earlier.reply == "您好"
    finally:
        await db.dispose()
