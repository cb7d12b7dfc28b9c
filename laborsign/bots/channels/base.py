"""What every chat channel is, and what the channels share.

A channel (WeChat Official Account, WeCom, DingTalk, Feishu, …) is one module under
`bots/channels/` holding a `ChannelAdapter`: its `[name]` config section, its sender (token
fetch, texts, HR review cards and their update), its per-recipient rate limit, its label, whether
workers or HR (or both) use it, and its inbound door (webhook routes: parsing and signature
check), and its join QR code when it has one. `registry.py` lists them; nothing outside a
channel's module names it.

wechatpy is blocking (requests, no default timeout), so its calls run in a small thread pool
with a timeout, never on the event loop. Tokens come from the shared store (tokens.py); the
SDK's own token fetching is switched off because its token URLs are hard-coded and a refresh
by one process would invalidate the token of the others."""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import aiohttp
from pydantic import BaseModel, ConfigDict

from ...core.chat import ReviewCard
from ...core.outbox import OutboxMessage
from ...core.ports import Deps
from ..tokens import SharedToken, TokenError

if TYPE_CHECKING:
    from ...http import ApiRoutes
    from ..engine import Engine

log = logging.getLogger("laborsign.bots.channels")
T = TypeVar("T")

# WeChat/WeCom error codes: the token was refused → refresh and try again at once (refused
# again, it is retried after the backoff like any other temporary failure).
TOKEN_ERRORS = {40001, 40014, 42001, 41001}
# The person cannot be reached this way: not (or no longer) following the account (43004),
# refusing its messages (43101), blocked (43019), an openid of another account (40003), past the
# 48 h customer-service window (45015); on WeCom outside the app's range (40031, 81013, 60111).
UNREACHABLE = {43004, 43101, 43019, 40003, 45015, 40031, 81013, 60111}
# The request itself is refused and would be refused the same way on every try: a template
# the account does not have (40037, 40036), data the template does not accept (47001, 47003),
# empty or oversized content (44002, 44004, 45002), an interface the account lacks (48001).
# Only a change of configuration helps; the dead letter can then be sent again.
REFUSED = {40037, 40036, 47001, 47003, 44002, 44004, 45002, 48001}
# Everything else (-1 system busy, 45009 / 45047 quotas, HTTP errors, broken connections,
# timeouts) may pass later and is retried with backoff.
PERMANENT = UNREACHABLE | REFUSED


class SendError(Exception):
    def __init__(self, message: str, permanent: bool = False, unfollowed: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        # The platform says the person does not follow the app: worth remembering, so that
        # later notices do not try again (they go by SMS alone until the person follows).
        self.unfollowed = unfollowed


class Sender(Protocol):
    channel: str
    app_id: str  # the chat identities' app id (WeChat app id, WeCom corp id, DingTalk client id)

    async def send(self, message: OutboxMessage) -> None: ...


class Background(Protocol):
    """A connection a channel holds for the life of the process (the DingTalk stream)."""

    async def run(self) -> None: ...


class ChannelSection(BaseModel):
    """A channel's `[name]` section in config.toml (environment: LABORSIGN_NAME__KEY)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False


@dataclass(frozen=True)
class JoinCode:
    """What a channel's join QR code encodes: scanned with the platform's app, it leads the
    worker into onboarding for the enterprise whose invite token it carries."""

    content: str
    details: dict[str, str] = field(default_factory=dict)  # the platform's own answer (WeChat's ticket)


S = TypeVar("S", bound=ChannelSection)
HttpFactory = Callable[[], aiohttp.ClientSession]


class ChannelAdapter(abc.ABC, Generic[S]):
    """One chat channel, as the rest of the application sees it."""

    name: ClassVar[str]  # the code stored with identities, conversations and outbox rows
    label: ClassVar[str]  # how the pages and the bot call it
    section: type[S]  # its config section, `[name]`
    worker_facing: ClassVar[bool] = False  # workers bind and get notices and the onboarding flow
    hr_facing: ClassVar[bool] = False  # HR members bind and get review cards and HR notices
    per_minute: ClassVar[int] = 20  # sends per recipient per minute the platform accepts
    # When one HR member decides a review card, the other members' copies are updated too
    # (WeCom can update a card only in answer to a press on it).
    update_every_copy: ClassVar[bool] = False
    # How the channel's join QR code is labelled on the invite page ("微信扫一扫…"); empty: the
    # channel has none (an HR-only channel, or a platform without a way to carry the invitation).
    join_label: ClassVar[str] = ""

    def settings(self, config: Any) -> S:
        """This channel's section of the application's `Config`."""
        value = getattr(config, self.name)
        assert isinstance(value, self.section)
        return value

    @abc.abstractmethod
    def app_id(self, settings: S) -> str:
        """The app the chat identities belong to (WeChat app id, WeCom corp id, …)."""

    @abc.abstractmethod
    def sender(self, deps: Deps, settings: S, http: HttpFactory) -> Sender: ...

    @abc.abstractmethod
    def routes(self) -> ApiRoutes:
        """The platform's callbacks: parsing, signature check, the replay guard."""

    def card_update(
        self, card: ReviewCard, text: str, response_code: str, now: datetime
    ) -> OutboxMessage | None:
        """The outbox row that shows a decided review card as decided (None: cannot)."""
        return None

    async def join_code(self, sender: Sender, settings: S, token: str, join_url: str) -> JoinCode:
        """The join QR code for the invite `token` (`join_url`: the H5 join page it carries).
        Only called when `join_label` is set; raises SendError when the platform refuses."""
        raise NotImplementedError(f"{self.name} has no join QR code")

    def background(self, deps: Deps, engine: Engine, settings: S, http: HttpFactory) -> Background | None:
        return None


_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="chat-sdk")


SDK_TIMEOUT = 15.0


async def in_thread(fn: Callable[[], T], pool: Executor = _pool) -> T:
    loop = asyncio.get_running_loop()
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that arrives
    # as the call finishes (CPython gh-86296), and a stopping deliverer would carry on.
    async with asyncio.timeout(SDK_TIMEOUT):
        return await loop.run_in_executor(pool, fn)


def _errcode(exc: Exception) -> int | None:
    code = getattr(exc, "errcode", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


class _WechatpySender(abc.ABC):
    """Shared retry-on-stale-token logic for the two wechatpy-based senders."""

    channel = ""
    unfollowed: frozenset[int] = frozenset()  # errcodes meaning "does not follow the app"

    def __init__(self, token: SharedToken, app_id: str) -> None:
        self.token = token
        self.app_id = app_id

    @abc.abstractmethod
    def _client(self, access_token: str) -> Any:
        """The wechatpy client (Official Account or WeCom) bound to this access token."""

    async def _call(self, action: Callable[[Any], T]) -> T:
        from wechatpy.exceptions import WeChatClientException

        stale: str | None = None
        for _ in range(2):
            try:
                access_token = await self.token.get(stale)
            except TokenError as exc:
                raise SendError(str(exc)) from exc
            client = self._client(access_token)
            try:
                return await in_thread(functools.partial(action, client))
            except WeChatClientException as exc:
                code = _errcode(exc)
                if code in TOKEN_ERRORS and stale is None:
                    stale = access_token
                    continue
                if code is None:
                    status = getattr(getattr(exc, "response", None), "status_code", "?")
                    raise SendError(f"{self.channel} HTTP {status}") from exc
                raise SendError(
                    f"{self.channel} {code}: {exc.errmsg}",
                    permanent=code in PERMANENT,
                    unfollowed=code in self.unfollowed,
                ) from exc
            except TimeoutError as exc:
                raise SendError(f"{self.channel}: timed out") from exc
            except Exception as exc:  # requests' connection errors and the like
                raise SendError(f"{self.channel}: {type(exc).__name__}: {exc}") from exc
        raise SendError(f"{self.channel}: token refused twice")
