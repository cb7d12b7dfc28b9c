"""The abuse budgets and one-time keys applied: spending budgets, issuing an SMS code under
them, captchas, admitting a signed callback once (the replay guard every webhook uses).

Every SMS code the service sends goes through `issue_code`, whoever asked for it, so the
budgets cannot be sidestepped by another route to the same message."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from .. import captcha, outbox
from ..accounts import SMS_CODE_TTL, SmsCode, hash_secret
from ..budgets import Budget, client_subject, spend
from ..errors import CaptchaRequired, Invalid, RateLimited
from ..ports import Deps, UnitOfWork
from ..replay import admit_callback, use_once

GLOBAL = "all"


@dataclass(frozen=True)
class Asker:
    """Who asks for an SMS code. `client`: the address of a request made without logging in
    (budgeted per address, with the captcha in front); `person`: a logged-in user's id or a
    chat identity (budgeted per person)."""

    client: str | None = None
    person: str | None = None
    solved_captcha: bool = False


async def spend_now(deps: Deps, budget: Budget, subject: str, cost: int = 1) -> None:
    """For what is paid before its result is stored (a provider's check): spent at once."""
    async with deps.uow() as uow:
        await spend(uow.budgets, budget, subject, deps.clock.now(), cost)
        await uow.commit()


async def issue_code(
    deps: Deps, uow: UnitOfWork, phone: str, purpose: str, text: str, now: datetime, asker: Asker
) -> None:
    """Spends the budgets and writes the code and its SMS in the caller's transaction.
    `text` holds `{code}`. The per-phone rules are the caller's (checked before)."""
    limits = deps.limits
    if asker.client is not None:
        subject = client_subject(asker.client)
        # The hard budget first: past it a captcha would not help, so say 429 rather than 428.
        await spend(uow.budgets, limits.sms_per_client, subject, now)
        if not asker.solved_captcha:
            try:
                await spend(uow.budgets, limits.sms_free_per_client, subject, now)
            except RateLimited:
                raise CaptchaRequired("请先完成图形验证码，再获取短信验证码") from None
    if asker.person is not None:
        await spend(uow.budgets, limits.sms_per_user, asker.person, now)
    code = SmsCode.generate()
    uow.add(
        SmsCode(
            phone=phone,
            purpose=purpose,
            code_hash=hash_secret(deps.secret, f"{phone}:{purpose}:{code}"),
            created_at=now,
            expires_at=now + SMS_CODE_TTL,
        )
    )
    uow.outbox.add(outbox.sms(phone, "sms_code", text.format(code=code), now, purpose=purpose, code=code))
    # Last: everyone's bucket is one row, held locked (PostgreSQL) from here to the commit.
    await spend(uow.budgets, limits.sms_global, GLOBAL, now)


async def new_captcha(deps: Deps, client: str) -> captcha.Challenge:
    await spend_now(deps, deps.limits.captchas_per_client, client_subject(client))
    return captcha.issue(deps.secret, deps.clock.now())


async def captcha_image(challenge: captcha.Challenge) -> str:
    return await asyncio.to_thread(captcha.png_data_url, challenge.answer)


async def solve_captcha(deps: Deps, challenge_id: object, answer: object) -> None:
    """Uses the challenge once, right or wrong (committed either way); raises 422 when wrong,
    expired or used before."""
    now = deps.clock.now()
    right = captcha.matches(deps.secret, challenge_id, answer, now)
    expires, _, _ = captcha.parse(challenge_id)
    first = False
    if expires >= now.timestamp():
        async with deps.uow() as uow:
            until = datetime.fromtimestamp(expires, now.tzinfo)
            first = await use_once(uow.seen, "captcha", str(challenge_id), now, until)
            await uow.commit()
    if not (right and first):
        raise Invalid.field("captcha_answer", captcha.WRONG, "captcha_wrong")


async def admit_signed_callback(deps: Deps, scope: str, key: str, body: bytes) -> None:
    """A callback whose signature checked out, once: a platform's retry (same signature and
    body) passes, the same signature over another body is 403 — in every process."""
    await admit_callback(deps.chat_steps.seen, scope, key, body, deps.clock.now())


async def forget_spent(deps: Deps) -> int:
    """Housekeeping: buckets that are full again and one-time keys past their time are the
    same as no row (the periodic job)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        gone = await uow.budgets.forget_full_before(now) + await uow.seen.forget_before(now)
        await uow.commit()
    return gone
