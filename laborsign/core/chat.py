"""Chat identities, conversations and review cards: the state the chat channels keep.

A chat identity is one person on one channel app (a WeChat openid, a WeCom or DingTalk
userid); binding ties it to a LaborSign user through an SMS code. A conversation is one run of a
flow for one identity; its state and answers live in the database so that a restart or a second
process continues it. Rules only: no SDK, no SQL."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import Conflict, WrongState
from .ids import new_id
from .replay import SeenKey

CONVERSATION_TTL = timedelta(hours=24)


class ConversationStatus(enum.StrEnum):
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(eq=False)
class ChatIdentity:
    channel: str  # wechat | wecom | dingtalk
    app_id: str
    external_id: str
    created_at: datetime
    user_id: str | None = None
    phone: str | None = None
    bound_at: datetime | None = None
    # Set while the person does not follow the app (WeChat: the unsubscribe event, or a send
    # refused for that reason); notices then reach them by SMS alone.
    unsubscribed_at: datetime | None = None
    id: str = field(default_factory=new_id)

    @property
    def bound(self) -> bool:
        return self.user_id is not None

    @property
    def following(self) -> bool:
        return self.unsubscribed_at is None

    def unsubscribe(self, now: datetime) -> None:
        if self.unsubscribed_at is None:
            self.unsubscribed_at = now

    def resubscribe(self) -> None:
        self.unsubscribed_at = None

    def bind(self, user_id: str, phone: str, now: datetime) -> None:
        self.user_id = user_id
        self.phone = phone
        self.bound_at = now

    def unbind(self) -> None:
        self.user_id = None
        self.phone = None
        self.bound_at = None


@dataclass(eq=False)
class Conversation:
    """One run of a flow. `history` holds the states visited, so 返回 can go back one step."""

    identity_id: str
    channel: str
    app_id: str
    external_id: str
    flow: str
    state: str
    started_at: datetime
    updated_at: datetime
    expires_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    status: str = ConversationStatus.ACTIVE
    version: int = 0
    id: str = field(default_factory=new_id)

    def is_live(self, now: datetime) -> bool:
        return self.status == ConversationStatus.ACTIVE and now < self.expires_at

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.expires_at = now + CONVERSATION_TTL

    def restart(self, state: str, data: dict[str, Any], now: datetime) -> None:
        self.state = state
        self.data = dict(data)
        self.history = []
        self.status = ConversationStatus.ACTIVE
        self.started_at = now
        self._touch(now)

    def move_to(self, state: str, now: datetime, remember: bool = True) -> None:
        self._require_active()
        if remember and self.state != state:
            self.history = [*self.history, self.state]
        self.state = state
        self._touch(now)

    def back(self, now: datetime) -> bool:
        """Returns False when already at the first question."""
        self._require_active()
        if not self.history:
            self._touch(now)
            return False
        *rest, previous = self.history
        self.history = rest
        self.state = previous
        self._touch(now)
        return True

    def answer(self, key: str, value: Any, now: datetime) -> None:
        self._require_active()
        self.data = {**self.data, key: value}
        self._touch(now)

    def finish(self, now: datetime) -> None:
        self._require_active()
        self.status = ConversationStatus.DONE
        self.updated_at = now

    def cancel(self, now: datetime) -> None:
        self._require_active()
        self.status = ConversationStatus.CANCELLED
        self.updated_at = now

    def expire(self, now: datetime) -> None:
        self.status = ConversationStatus.EXPIRED
        self.updated_at = now

    def _require_active(self) -> None:
        if self.status != ConversationStatus.ACTIVE:
            raise WrongState("会话已结束", "conversation_closed")


@dataclass(eq=False)
class InboundMessage:
    """A platform callback seen once: the dedupe key makes retries of it change nothing, and
    the stored reply lets a retry get the same answer."""

    channel: str
    app_id: str
    dedupe_key: str
    received_at: datetime
    reply: str | None = None
    done_at: datetime | None = None
    id: str = field(default_factory=new_id)


class CardStatus(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"


@dataclass(eq=False)
class ReviewCard:
    """An onboarding-review card sent to one HR member on WeCom or DingTalk."""

    record_id: str
    enterprise_id: str
    channel: str
    recipient: str  # WeCom userid / DingTalk userid
    card_key: str  # WeCom task_id / DingTalk outTrackId
    created_at: datetime
    status: str = CardStatus.OPEN
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    response_code: str | None = None  # WeCom: lets the card be updated once
    version: int = 0  # the optimistic lock (storage): two presses racing, one claim wins
    id: str = field(default_factory=new_id)

    def claim(self) -> None:
        """A press takes the card before the review runs, so a second press (on any host)
        stops there: a claim racing this one fails with a Conflict when it commits."""
        if self.status != CardStatus.OPEN:
            raise WrongState("该卡片已处理", "card_decided")
        self.status = CardStatus.DECIDED

    def release(self) -> None:
        """Gives a claimed card back when the review it started changed nothing."""
        if self.status == CardStatus.DECIDED and self.decision is None:
            self.status = CardStatus.OPEN

    def decide(self, decision: str, by_name: str, now: datetime) -> None:
        """Records the outcome (the card is claimed already by the press that decided it, or
        is another copy of that record's card)."""
        if self.decision is not None:
            raise WrongState("该卡片已处理", "card_decided")
        self.status = CardStatus.DECIDED
        self.decision = decision
        self.decided_by = by_name
        self.decided_at = now


@dataclass(eq=False)
class DeadLetter:
    """An outbound message that failed every try, listed in the dashboard."""

    message_id: str
    channel: str
    recipient_masked: str
    kind: str
    text: str
    attempts: int
    last_error: str
    died_at: datetime
    enterprise_id: str | None = None
    retried_at: datetime | None = None
    id: str = field(default_factory=new_id)

    def mark_retried(self, now: datetime) -> None:
        if self.retried_at is not None:
            raise WrongState("该消息已重新发送", "already_retried")
        self.retried_at = now


# Why a message could not be sent, as HR reads it; the platform's raw answer stays available
# (the dashboard shows it folded under 原始信息) for whoever sets the channel up.
_ERROR_SUMMARIES: list[tuple[str, str]] = [
    (r"not enabled", "该消息渠道未开启，请在平台配置中开启后重发"),
    (
        r"token refused|TokenError|40001|42001|invalid credential",
        "平台拒绝了应用凭证，请检查 AppID / Secret 配置",
    ),
    (
        r"visible range|60011|60020|81013",
        "接收人不在应用的可见范围内，请在企业微信或钉钉后台调整应用可见范围",
    ),
    (r"unknown to the robot|not follow|43004|unsubscribe", "接收人未关注或已取消关注，无法收到消息"),
    (r"45009|45047|rate.?limit|frequen", "发送过于频繁，已超过平台的调用频率限制"),
    (r"timed out|Timeout", "连接消息平台超时"),
    (r"HTTP 5\d\d|dingtalk 5\d\d", "消息平台暂时不可用（服务器错误）"),
    (r"HTTP 4\d\d|dingtalk 4\d\d", "消息平台拒绝了请求"),
    (r"Connection|connect|resolve|Network", "无法连接消息平台，请检查网络"),
]


def error_summary(raw: str) -> str:
    for pattern, summary in _ERROR_SUMMARIES:
        if re.search(pattern, raw or "", re.IGNORECASE):
            return summary
    return "消息平台返回错误，发送失败" if raw else "发送失败"


class StepConflict(Conflict):
    """Another process changed this person's state between the step's read and its write."""


@dataclass
class ChatStep:
    """What one conversation step stores, in one transaction: the message once (its dedupe
    key; None for callbacks without one), the identity, the conversations it touched and the
    outbox rows it queued — and, for a callback whose signature covers what was stepped, its
    replay guard (core/replay.py), written first: a refused replay stores nothing."""

    inbound: InboundMessage | None
    identity: ChatIdentity
    conversations: list[Conversation]
    outbox: list[Any]  # OutboxMessage
    guard: SeenKey | None = None
