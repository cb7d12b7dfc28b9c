"""The channel-agnostic conversation engine.

A flow is declared as named states, each with a prompt and a handler that validates the answer
(with the same `core/` rules the H5 form uses) and names the next state. 返回 goes back one
step, 取消 cancels, 继续 repeats the current question. State lives in the database keyed by
(channel, app, user, flow), so a restart or another process continues the conversation; one
message is handled at a time per user; idle flows expire after 24 h.

Channel doors (webhooks, the DingTalk stream) turn platform messages into `Incoming` and send
the returned replies back the platform's way."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..core import outbox as ob
from ..core.chat import (
    ChatIdentity,
    ChatStep,
    Conversation,
    ConversationStatus,
    InboundMessage,
    StepConflict,
)
from ..core.clock import china_time
from ..core.errors import Conflict, DomainError, Invalid
from ..core.ports import Deps
from ..core.replay import SeenKey, admit_seen
from ..core.values import mask_phone

log = logging.getLogger("laborsign.bots")

BACK = {"返回", "上一步", "back"}
CANCEL = {"取消", "退出", "cancel"}
AGAIN = {"继续", "重新发送", "continue"}


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a chat: a text, or an event (subscribe, QR scan)."""

    channel: str
    app_id: str
    external_id: str
    text: str = ""
    event: str | None = None  # subscribe | scan | unsubscribe | ...
    scene: str | None = None  # parametric QR scene, e.g. "join:<token>"
    dedupe_key: str | None = None
    # Doors that cannot answer in the response (the DingTalk stream) get the replies queued
    # in the outbox in the same transaction as the step.
    reply_by_outbox: bool = False
    # The callback's replay guard when its signature covers the message (a safe-mode body):
    # written in the step's own transaction instead of one of its own before it.
    guard: SeenKey | None = None


@dataclass
class Outcome:
    replies: list[str]
    duplicate: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(r for r in self.replies if r)


# -- flow declarations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Goto:
    state: str
    say: str = ""


@dataclass(frozen=True)
class Finish:
    say: str = ""


Transition = Goto | Finish
Handler = Callable[["Ctx", str], Awaitable[Transition]]


@dataclass(frozen=True)
class State:
    prompt: Callable[[Ctx], str]
    handle: Handler


@dataclass(frozen=True)
class Flow:
    name: str
    title: str  # e.g. 入职资料填写, used in the expiry message
    first: str
    states: dict[str, State]
    # Called when the flow finishes; may start the next flow (binding, then onboarding).
    after: Callable[[Ctx], Awaitable[None]] | None = None


def question(
    key: str,
    prompt: str | Callable[[Ctx], str],
    validate: Callable[[Ctx, str], Awaitable[Any]],
    next_state: str,
) -> State:
    """The common state: validate the answer, store it, move on (or back to the summary when
    the person is correcting one item)."""

    async def handle(ctx: Ctx, text: str) -> Transition:
        value = await validate(ctx, text)
        ctx.conv.answer(key, value, ctx.now)
        back_to = ctx.conv.data.get("_return")
        if back_to:
            ctx.conv.answer("_return", None, ctx.now)
            return Goto(back_to)
        return Goto(next_state)

    if callable(prompt):
        return State(prompt=prompt, handle=handle)
    text = prompt

    def fixed(ctx: Ctx) -> str:
        return text

    return State(prompt=fixed, handle=handle)


# -- per-message context ---------------------------------------------------------------------------


@dataclass
class Ctx:
    engine: Engine
    deps: Deps
    incoming: Incoming
    identity: ChatIdentity
    conversations: list[Conversation]
    now: datetime
    replies: list[str] = field(default_factory=list)
    outbox: list[ob.OutboxMessage] = field(default_factory=list)
    touched: list[Conversation] = field(default_factory=list)
    conv: Conversation = None  # type: ignore[assignment]  # the flow being run, set by the engine

    @property
    def today(self) -> date:
        return china_time(self.now).date()

    def say(self, text: str) -> None:
        if text:
            self.replies.append(text)

    def live(self) -> Conversation | None:
        for conv in sorted(self.conversations, key=lambda c: c.updated_at, reverse=True):
            if conv.status == ConversationStatus.ACTIVE:
                return conv
        return None

    def conversation(self, flow: str) -> Conversation | None:
        return next((c for c in self.conversations if c.flow == flow), None)

    def touch(self, conv: Conversation) -> None:
        if conv not in self.touched:
            self.touched.append(conv)

    async def start(self, flow_name: str, data: dict[str, Any] | None = None) -> None:
        """Starts (or restarts) a flow and asks its first question."""
        await self.engine.start_flow(self, flow_name, data or {})


Command = Callable[[Ctx, str], Awaitable[None]]


# -- the engine ---------------------------------------------------------------------------------------


class Busy(Exception):
    """Another process changed this conversation at the same moment."""


class Engine:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.flows: dict[str, Flow] = {}
        self.commands: dict[str, Command] = {}
        self.open_commands: set[str] = set()  # allowed before binding
        self.unbound: Callable[[Ctx, str], Awaitable[None]] | None = None
        self.fallback: Callable[[Ctx, str], Awaitable[None]] | None = None
        self.on_event: Callable[[Ctx], Awaitable[None]] | None = None
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def flow(self, flow: Flow) -> Flow:
        self.flows[flow.name] = flow
        return flow

    def command(self, *words: str, open_to_unbound: bool = False) -> Callable[[Command], Command]:
        def register(fn: Command) -> Command:
            for word in words:
                self.commands[word] = fn
                if open_to_unbound:
                    self.open_commands.add(word)
            return fn

        return register

    def _lock(self, key: tuple[str, str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    # -- entry point ---------------------------------------------------------------------------

    async def handle(self, msg: Incoming) -> Outcome:
        key = (msg.channel, msg.app_id, msg.external_id)
        async with self._lock(key):  # one step at a time per person, in this process
            for _ in range(3):
                try:
                    return await self._step(msg)
                except Busy:
                    pass  # another process stepped this person meanwhile: again, on fresh state
            if msg.guard is not None:  # nothing stored it: the callback is still used once
                await admit_seen(self.deps.chat_steps.seen, msg.guard)
            return Outcome(["系统繁忙，请稍后重新发送。"])

    async def _step(self, msg: Incoming) -> Outcome:
        """Reads the person's state, runs the step, then in one transaction records the
        message once (the dedupe) together with everything the step changed: a message is
        either stepped and stored with its answer, or not at all."""
        now = self.deps.clock.now()
        dedupe = msg.dedupe_key[:200] if msg.dedupe_key else None
        store = self.deps.chat_steps
        seen, identity, conversations = await store.person(msg.channel, msg.app_id, msg.external_id, dedupe)
        if seen is not None:
            if msg.guard is not None:  # a retry: the same body passes, another is refused
                await admit_seen(store.seen, msg.guard)
            return _again(seen)
        if identity is None:
            identity = ChatIdentity(msg.channel, msg.app_id, msg.external_id, now)
        ctx = Ctx(self, self.deps, msg, identity, conversations, now)
        await self._route(ctx)
        text = "\n\n".join(ctx.replies)
        if msg.reply_by_outbox and text:
            ctx.outbox.append(ob.chat(msg.channel, msg.external_id, "reply", text, ctx.now))
        inbound = (
            store.message(msg.channel, msg.app_id, dedupe, now, text, ctx.now) if dedupe is not None else None
        )
        try:
            earlier = await store.save(ChatStep(inbound, ctx.identity, ctx.touched, ctx.outbox, msg.guard))
        except StepConflict as exc:
            raise Busy() from exc
        if earlier is not None:
            return _again(earlier)  # a concurrent delivery of it was stored first: this step is undone
        return Outcome(ctx.replies)

    async def claim_once(self, channel: str, app_id: str, key: str) -> bool:
        """For callbacks that are not conversation steps (card presses): True the first time."""
        async with self.deps.uow() as uow:
            first = await uow.chat.record_inbound(
                InboundMessage(channel, app_id, key[:200], self.deps.clock.now())
            )
            await uow.commit()
        return first

    # -- routing ------------------------------------------------------------------------------------

    async def _route(self, ctx: Ctx) -> None:
        conv = ctx.live()
        if conv is not None and not conv.is_live(ctx.now):
            conv.expire(ctx.now)
            ctx.touch(conv)
            ctx.say(f"您的{self.flows[conv.flow].title}已超过24小时未完成，已自动结束。")
            conv = None
        if ctx.incoming.event == "unsubscribe":
            ctx.identity.unsubscribe(ctx.now)
        else:
            ctx.identity.resubscribe()  # only a follower can write to the app or scan its codes
        text = ctx.incoming.text.strip()
        if ctx.incoming.event:
            if self.on_event is not None:
                await self.on_event(ctx)
            return
        word, _, rest = text.partition(" ")
        if conv is not None:
            ctx.conv = conv
            if text in CANCEL:
                conv.cancel(ctx.now)
                ctx.touch(conv)
                ctx.say(f"已取消{self.flows[conv.flow].title}。回复“帮助”查看可用指令。")
                return
            if text in BACK:
                went_back = conv.back(ctx.now)
                ctx.touch(conv)
                if not went_back:
                    ctx.say("已经是第一步了。")
                await self._prompt(ctx)
                return
            if text in AGAIN:
                await self._prompt(ctx)
                return
        command = self.commands.get(word) if word else None
        if command is not None:
            if not ctx.identity.bound and word not in self.open_commands and self.unbound:
                await self.unbound(ctx, text)
                return
            await command(ctx, rest.strip())
            return
        if conv is not None:
            await self._answer(ctx, text)
            return
        if not ctx.identity.bound and self.unbound:
            await self.unbound(ctx, text)
            return
        if self.fallback is not None:
            await self.fallback(ctx, text)

    async def _answer(self, ctx: Ctx, text: str) -> None:
        flow = self.flows[ctx.conv.flow]
        state = flow.states[ctx.conv.state]
        ctx.touch(ctx.conv)
        if not text:
            await self._prompt(ctx)
            return
        try:
            transition = await state.handle(ctx, text)
        except Invalid as exc:
            reason = next(iter(exc.fields.values()), exc.message) if exc.fields else exc.message
            ctx.say(f"{reason}，请重新输入。（回复“返回”回到上一步，“取消”放弃）")
            ctx.say(state.prompt(ctx))
            return
        except DomainError as exc:
            ctx.say(exc.message)
            return
        await self._apply(ctx, flow, transition)

    async def _apply(self, ctx: Ctx, flow: Flow, transition: Transition) -> None:
        ctx.say(transition.say)
        if isinstance(transition, Finish):
            ctx.conv.finish(ctx.now)
            if flow.after is not None:
                await flow.after(ctx)
            return
        ctx.conv.move_to(transition.state, ctx.now)
        await self._prompt(ctx)

    async def _prompt(self, ctx: Ctx) -> None:
        state = self.flows[ctx.conv.flow].states[ctx.conv.state]
        ctx.say(state.prompt(ctx))

    async def start_flow(self, ctx: Ctx, flow_name: str, data: dict[str, Any]) -> None:
        flow = self.flows[flow_name]
        for other in ctx.conversations:  # one flow at a time per person
            if other.flow != flow_name and other.status == ConversationStatus.ACTIVE:
                other.cancel(ctx.now)
                ctx.touch(other)
        conv = ctx.conversation(flow_name)
        if conv is None:
            identity = ctx.identity
            conv = Conversation(
                identity_id=identity.id, channel=identity.channel, app_id=identity.app_id,
                external_id=identity.external_id, flow=flow_name, state=flow.first, started_at=ctx.now,
                updated_at=ctx.now, expires_at=ctx.now, data={},
            )  # fmt: skip
            ctx.conversations.append(conv)
        conv.restart(flow.first, data, ctx.now)
        ctx.touch(conv)
        ctx.conv = conv
        await self._prompt(ctx)

    # -- housekeeping ---------------------------------------------------------------------------------

    async def expire_idle(self, limit: int = 200) -> int:
        """Ends flows idle for 24 h and tells the person so (through the outbox)."""
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            expired = await uow.chat.expired_conversations(now, limit)
            for conv in expired:
                conv.expire(now)
                identity = await uow.get(ChatIdentity, conv.identity_id)
                if identity is not None and not identity.following:
                    continue  # the message could not reach them
                flow = self.flows.get(conv.flow)
                title = flow.title if flow else "对话"
                uow.outbox.add(
                    ob.chat(
                        conv.channel, conv.external_id, "reply",
                        f"您的{title}已超过24小时未完成，已自动结束。如需继续办理，请重新发送相应指令（例如“入职”）。",
                        now,
                    )
                )  # fmt: skip
            try:
                await uow.commit()
            except Conflict:
                return 0  # a message for one of them arrived just now: next sweep
        return len(expired)

    async def forget_old_inbound(self, days: int = 3) -> None:
        from datetime import timedelta

        async with self.deps.uow() as uow:
            await uow.chat.forget_inbound_before(self.deps.clock.now() - timedelta(days=days))
            await uow.commit()


def _again(seen: InboundMessage | None) -> Outcome:
    """A retry of a message already handled: the first delivery's answer again."""
    return Outcome([seen.reply] if seen is not None and seen.reply else [], duplicate=True)


def masked(phone: str | None) -> str:
    return mask_phone(phone) if phone else ""
