"""The flows and commands a worker (or an HR member) meets in chat.

Binding ties the chat identity to a phone through an SMS code; onboarding asks the fields of
`core.onboarding.ONBOARDING_FIELDS` one at a time with their own parsers, shows a numbered
summary, and submits through the same service as the H5 form."""

from __future__ import annotations

import re
from typing import Any

from ..core.accounts import Enterprise, SmsPurpose, User
from ..core.clock import china_time
from ..core.contracts import CONTRACT_STATUS_LABELS, ContractStatus
from ..core.errors import Invalid, NotFound, RateLimited, WrongState
from ..core.identity_rules import ID_TYPE_LABELS, IdType, mask_id_number, parse_id_document
from ..core.onboarding import (
    GENDERS,
    ONBOARDING_FIELDS,
    ONBOARDING_STATUS_LABELS,
    FormField,
    OnboardingStatus,
    validate_onboarding,
)
from ..core.services import accounts as account_service
from ..core.services import labor
from ..core.services import roster as roster_service
from ..core.services.limits import Asker
from ..core.values import Phone
from .channels import registry
from .engine import Ctx, Engine, Finish, Flow, Goto, State, Transition, masked, question

ID_CONTEXT = "chat_conversations.data"
SENSITIVE = {"id_number"}
CONFIRM = set("1 确认 是 是的 提交 确定 好 好的 对 对的 没问题 可以 嗯 ok okay yes y".split())


def confirms(text: str) -> bool:
    """A yes in the ways people type it: 确认, 好的！, OK, 没问题。 (case and punctuation aside)."""
    return re.sub(r"[\s。，,.!！~～]", "", text).lower() in CONFIRM


HR_HELP = (
    "您是用人单位的管理人员，可以在这里：\n"
    "审核入职资料 —— 劳动者提交入职资料后，审核卡片会发到这里，点“通过”或“拒绝”即可\n"
    "绑定 —— 更换绑定的手机号\n"
    "帮助 —— 查看本说明\n"
    "合同发起、花名册等请登录用人单位后台办理。"
)

HELP = (
    "您可以回复以下指令：\n"
    "入职 —— 办理入职，填写入职资料\n"
    "待我签 —— 查看需要我签署的合同和签署链接\n"
    "我的合同 —— 查看我的全部合同\n"
    "合同到期 —— 查看我的劳动合同何时到期\n"
    "入职资料 —— 查看我提交的入职资料及审核状态\n"
    "绑定 —— 绑定手机号\n"
    "帮助 —— 查看本说明\n"
    "填写过程中可回复：返回（上一步）、取消（放弃）、继续（重发当前问题）"
)


# -- binding -------------------------------------------------------------------------------------


async def _bind_phone(ctx: Ctx, text: str) -> Transition:
    phone = Phone.parse(text).value
    try:
        who = f"chat:{ctx.incoming.channel}:{ctx.incoming.app_id}:{ctx.incoming.external_id}"
        await account_service.request_sms_code(ctx.deps, phone, SmsPurpose.BIND, Asker(person=who))
    except RateLimited as exc:
        retry = exc.extra.get("retry_after", 60)
        if ctx.conv.data.get("phone") == phone:  # a code was sent moments ago: just ask for it
            return Goto("code", "验证码刚刚已发送，请查看短信。")
        raise Invalid.field("phone", f"{exc.message}（约{retry}秒后可重试）") from None
    ctx.conv.answer("phone", phone, ctx.now)
    return Goto("code")


async def _bind_code(ctx: Ctx, text: str) -> Transition:
    phone = str(ctx.conv.data.get("phone") or "")
    code = re.sub(r"\s", "", text)
    if not re.fullmatch(r"\d{6}", code):
        raise Invalid.field("code", "验证码为6位数字")
    problem = await account_service.check_sms_code(ctx.deps, phone, SmsPurpose.BIND, code)
    if problem is not None:
        raise Invalid.field(
            "code", problem + ("（回复“返回”重新获取）" if problem == account_service.CODE_GONE else "")
        )
    user = await _user_for(ctx, phone)
    ctx.identity.bind(user.id, phone, ctx.now)
    adapter = registry.adapter(ctx.identity.channel)
    where = adapter.label if adapter is not None else "微信"
    enterprises = await _hr_enterprises(ctx)
    role = f"（{'、'.join(enterprises)} 管理人员）" if enterprises else ""
    return Finish(f"绑定成功！当前{where}已绑定手机号 {masked(phone)}{role}。")


async def _hr_enterprises(ctx: Ctx) -> list[str]:
    """The enterprises the bound person works for as HR, when they write from an employer's
    app (WeCom, DingTalk, …): they are answered with HR's commands, not the worker's."""
    if ctx.identity.channel not in registry.hr_facing() or not ctx.identity.user_id:
        return []
    async with ctx.deps.uow() as uow:
        return [e.name for _m, e in await uow.accounts.memberships(ctx.identity.user_id)]


async def _help_for(ctx: Ctx) -> str:
    return HR_HELP if ctx.identity.bound and await _hr_enterprises(ctx) else HELP


async def _user_for(ctx: Ctx, phone: str) -> User:
    """The person behind the phone; a first-time worker gets an account, as at SMS login."""
    async with ctx.deps.uow() as uow:
        user = await uow.accounts.user_by_phone(phone)
        if user is None:
            user = User(phone=phone, created_at=ctx.now)
            uow.add(user)
            await uow.commit()
        return user


async def _after_bind(ctx: Ctx) -> None:
    then = ctx.conv.data.get("then")
    if isinstance(then, dict) and then.get("flow") == "onboarding":
        await start_onboarding(ctx, str(then.get("token") or ""))
    else:
        ctx.say(await _help_for(ctx))


BIND = Flow(
    name="bind",
    title="手机号绑定",
    first="phone",
    states={
        "phone": State(
            prompt=lambda ctx: "请输入您的手机号，我们将发送短信验证码完成绑定：",
            handle=_bind_phone,
        ),
        "code": State(
            prompt=lambda ctx: f"验证码已发送至 {masked(ctx.conv.data.get('phone'))}，请回复6位验证码：",
            handle=_bind_code,
        ),
    },
    after=_after_bind,
)


# -- onboarding ------------------------------------------------------------------------------------


def _display(ctx: Ctx, spec: FormField) -> str:
    value = ctx.conv.data.get(spec.key)
    if value is None:
        return "（未填写）"
    if spec.key == "gender":
        return GENDERS.get(str(value), str(value))
    if spec.key == "id_type":
        return ID_TYPE_LABELS.get(IdType(str(value)), str(value))
    if spec.key == "id_number":
        return mask_id_number(_plain(ctx, "id_number"))
    if spec.key.endswith("phone"):
        return masked(str(value))
    return str(value)


def _plain(ctx: Ctx, key: str) -> str:
    value = str(ctx.conv.data.get(key) or "")
    if key in SENSITIVE and value:
        return ctx.deps.cipher.decrypt(value, ID_CONTEXT)
    return value


def _field_validator(spec: FormField) -> Any:
    async def validate(ctx: Ctx, text: str) -> Any:
        value = spec.parse(text, ctx.today)
        if spec.key == "id_number":
            document = parse_id_document(ctx.conv.data.get("id_type"), value, ctx.today)
            # Encrypted at rest, also while the conversation is half done.
            return ctx.deps.cipher.encrypt(document.number, ID_CONTEXT)
        return value.isoformat() if hasattr(value, "isoformat") else value

    return validate


def _form_data(ctx: Ctx) -> dict[str, Any]:
    data: dict[str, Any] = {"emergency_contact": {}}
    for spec in ONBOARDING_FIELDS:
        value = _plain(ctx, spec.key)
        if spec.key.startswith("emergency_contact."):
            data["emergency_contact"][spec.key.split(".", 1)[1]] = value
        else:
            data[spec.key] = value
    return data


def _summary(ctx: Ctx) -> str:
    lines = [f"请核对您提交给【{ctx.conv.data.get('enterprise_name', '')}】的入职资料："]
    for number, spec in enumerate(ONBOARDING_FIELDS, 1):
        lines.append(f"{number}. {spec.label}：{_display(ctx, spec)}")
    lines.append("回复“确认”提交；回复“修改 序号”修改某一项（例如：修改 3）；回复“取消”放弃。")
    return "\n".join(lines)


async def _summary_answer(ctx: Ctx, text: str) -> Transition:
    compact = text.replace(" ", "")
    edit = re.fullmatch(r"修改(\d{1,2})", compact)
    if edit:
        number = int(edit.group(1))
        if not 1 <= number <= len(ONBOARDING_FIELDS):
            raise Invalid.field("summary", f"序号应为1-{len(ONBOARDING_FIELDS)}")
        ctx.conv.answer("_return", "summary", ctx.now)
        return Goto(ONBOARDING_FIELDS[number - 1].key)
    if not confirms(compact):
        raise Invalid.field("summary", "请回复“确认”提交，或“修改 序号”修改某一项")
    data = _form_data(ctx)
    try:
        validate_onboarding(data, ctx.today)
    except Invalid as exc:  # cross-field rules (ID vs birth date, contact phone ≠ own phone)
        key, reason = next(iter(exc.fields.items()))
        ctx.conv.answer("_return", "summary", ctx.now)
        return Goto(key, f"{reason}，请修改：")
    async with ctx.deps.uow() as uow:
        user = await uow.get(User, ctx.identity.user_id or "")
    if user is None:
        raise WrongState("请先回复“绑定”绑定手机号", "not_bound")
    await roster_service.submit_onboarding(
        ctx.deps, user, str(ctx.conv.data["enterprise_id"]), data, channel=ctx.identity.channel
    )
    # The answers are in the record now; the conversation keeps no personal data.
    ctx.conv.data = {"enterprise_id": ctx.conv.data["enterprise_id"], "token": ctx.conv.data.get("token")}
    return Finish("提交成功！您的入职资料正在审核中（资料审核中），审核结果将通过消息和短信通知您。")


async def _confirm_employer(ctx: Ctx, text: str) -> Transition:
    if confirms(text):
        return Goto(ONBOARDING_FIELDS[0].key)
    raise Invalid.field("employer", "确认该用人单位请回复“1”，否则回复“取消”")


def _onboarding_states() -> dict[str, State]:
    states: dict[str, State] = {
        "employer": State(
            prompt=lambda ctx: (
                f"您正在办理【{ctx.conv.data.get('enterprise_name', '')}】的入职。"
                f"共{len(ONBOARDING_FIELDS)}项资料，均为必填。确认用人单位请回复“1”，否则回复“取消”。"
            ),
            handle=_confirm_employer,
        ),
        "summary": State(prompt=_summary, handle=_summary_answer),
    }
    for index, spec in enumerate(ONBOARDING_FIELDS):
        following = ONBOARDING_FIELDS[index + 1].key if index + 1 < len(ONBOARDING_FIELDS) else "summary"
        prompt = f"（{index + 1}/{len(ONBOARDING_FIELDS)}）{spec.prompt}"
        states[spec.key] = question(spec.key, prompt, _field_validator(spec), following)
    return states


ONBOARDING = Flow(name="onboarding", title="入职资料填写", first="employer", states=_onboarding_states())


def _token_from(text: str) -> str:
    """Accepts the token, the join link, or the QR scene."""
    text = text.strip()
    if text.startswith(("qrscene_", "join:")):
        text = text.removeprefix("qrscene_").removeprefix("join:")
    return text.rstrip("/").rsplit("/", 1)[-1]


async def start_onboarding(ctx: Ctx, token: str) -> None:
    if not ctx.identity.bound:
        ctx.say("办理入职前，请先绑定您的手机号。")
        await ctx.start("bind", {"then": {"flow": "onboarding", "token": token}})
        return
    if not token:
        previous = ctx.conversation("onboarding")
        token = str(previous.data.get("token") or "") if previous else ""
    if not token:
        ctx.say(
            "请扫描用人单位提供的入职二维码，或回复“入职 邀请链接”（例如：入职 https://…/h5/join/xxxx）。"
        )
        return
    try:
        enterprise = await roster_service.enterprise_for_token(ctx.deps, token)
    except NotFound as exc:
        ctx.say(exc.message)
        return
    async with ctx.deps.uow() as uow:
        pending = await uow.roster.pending_record(enterprise.id, ctx.identity.user_id or "")
    if pending is not None:
        ctx.say(f"您提交给【{enterprise.name}】的入职资料正在审核中，请耐心等待。")
        return
    await ctx.start(
        "onboarding", {"enterprise_id": enterprise.id, "enterprise_name": enterprise.name, "token": token}
    )


# -- commands --------------------------------------------------------------------------------------


def install(engine: Engine) -> Engine:
    engine.flow(BIND)
    engine.flow(ONBOARDING)

    @engine.command("帮助", "help", "?", "？", open_to_unbound=True)
    async def help_command(ctx: Ctx, rest: str) -> None:
        ctx.say(await _help_for(ctx))
        if not ctx.identity.bound:
            ctx.say("您还未绑定手机号，回复“绑定”开始绑定。")
        elif (conv := ctx.live()) is not None:
            ctx.say(f"您正在进行{engine.flows[conv.flow].title}，回复“继续”接着填写。")

    @engine.command("绑定", open_to_unbound=True)
    async def bind_command(ctx: Ctx, rest: str) -> None:
        if ctx.identity.bound:
            ctx.say(f"当前已绑定手机号 {masked(ctx.identity.phone)}。如需更换，请输入新的手机号。")
        await ctx.start("bind")

    @engine.command("入职", open_to_unbound=True)
    async def onboarding_command(ctx: Ctx, rest: str) -> None:
        await start_onboarding(ctx, _token_from(rest) if rest else "")

    @engine.command("待我签", "待签")
    async def awaiting_command(ctx: Ctx, rest: str) -> None:
        await _contracts(ctx, "awaiting_me", "待您签署的合同")

    @engine.command("我的合同", "合同")
    async def contracts_command(ctx: Ctx, rest: str) -> None:
        await _contracts(ctx, "all", "您的合同")

    @engine.command("合同到期", "到期")
    async def ending_command(ctx: Ctx, rest: str) -> None:
        ctx.say(await labor.contract_end_text(ctx.deps, ctx.identity.phone or ""))

    @engine.command("入职资料", "我的入职")
    async def records_command(ctx: Ctx, rest: str) -> None:
        async with ctx.deps.uow() as uow:
            records, total = await uow.roster.records_page(None, ctx.identity.user_id, None, 0, 10)
            names = {}
            for r in records:
                if r.enterprise_id not in names:
                    enterprise = await uow.get(Enterprise, r.enterprise_id)
                    names[r.enterprise_id] = enterprise.name if enterprise else ""
        if not records:
            ctx.say("您还没有提交过入职资料。扫描用人单位的入职二维码即可办理。")
            return
        lines = [f"您提交的入职资料（共{total}份）："]
        for i, r in enumerate(records, 1):
            label = ONBOARDING_STATUS_LABELS[OnboardingStatus(r.status)]
            when = china_time(r.created_at).strftime("%Y-%m-%d")
            line = f"{i}. 【{names[r.enterprise_id]}】{when} 提交，{label}"
            if r.status == OnboardingStatus.REJECTED and r.reject_reason:
                line += f"（原因：{r.reject_reason}）"
            lines.append(line)
        lines.append(f"查看详情：{ctx.deps.public_url}/h5/me")
        ctx.say("\n".join(lines))

    async def unbound(ctx: Ctx, text: str) -> None:
        ctx.say("为保护您的信息，请先绑定手机号。")
        await ctx.start("bind")

    async def fallback(ctx: Ctx, text: str) -> None:
        ctx.say("抱歉，没有理解您的意思。\n" + await _help_for(ctx))

    async def on_event(ctx: Ctx) -> None:
        event = ctx.incoming.event
        scene = ctx.incoming.scene or ""
        if (
            event in ("subscribe", "scan")
            and _token_from(scene)
            and scene.removeprefix("qrscene_").startswith("join:")
        ):
            await start_onboarding(ctx, _token_from(scene))
        elif event in ("subscribe", "enter_chat"):
            ctx.say("欢迎使用劳动合同签！在这里可以办理入职、查看和签署劳动合同。\n" + HELP)
        # Everything else (unsubscribe, menu views, location…) needs no answer.

    engine.unbound = unbound
    engine.fallback = fallback
    engine.on_event = on_event
    return engine


async def _contracts(ctx: Ctx, view: str, title: str) -> None:
    phone = ctx.identity.phone or ""
    async with ctx.deps.uow() as uow:
        contracts, total, _ = await uow.contracts.page(
            worker_phone=phone, view=view, q=None, status=None, offset=0, limit=10
        )
        names = {}
        for c in contracts:
            if c.enterprise_id not in names:
                enterprise = await uow.get(Enterprise, c.enterprise_id)
                names[c.enterprise_id] = enterprise.name if enterprise else ""
        terms = await labor.term_summaries(uow, contracts)
    if not contracts:
        ctx.say("目前没有待您签署的合同。" if view == "awaiting_me" else "您还没有合同。")
        return
    lines = [f"{title}（共{total}份）："]
    for i, c in enumerate(contracts, 1):
        label = CONTRACT_STATUS_LABELS.get(ContractStatus(c.status), c.status)
        facts = f"\n{terms[c.id]}" if terms.get(c.id) else ""  # the term, as the web shows it
        lines.append(
            f"{i}. {c.name}（{names[c.enterprise_id]}，{label}）{facts}\n{ctx.deps.public_url}/h5/contracts/{c.id}"
        )
    if total > len(contracts):
        lines.append(f"更多合同：{ctx.deps.public_url}/h5/contracts")
    ctx.say("\n".join(lines))
