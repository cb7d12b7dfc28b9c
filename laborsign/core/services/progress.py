"""The first-run checklist of the employer's home page: 认证 → 印章 → 模板 → 邀请 → 发起, each
step ticked from what the enterprise has really done, so nobody ticks it by hand."""

from __future__ import annotations

from dataclasses import dataclass

from ..ports import Deps
from .accounts import Actor


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    href: str
    done: bool


async def first_run(deps: Deps, actor: Actor) -> list[Step]:
    enterprise = actor.require_enterprise()[0]
    async with deps.uow() as uow:
        seals = await uow.contracts.seals_of(enterprise.id)
        _, templates = await uow.templates.visible(
            enterprise_id=enterprise.id, scope="all", status="enabled", include_closed_public=False,
            offset=0, limit=1,
        )  # fmt: skip
        invited = await uow.roster.has_invited(enterprise.id)
        launched, _, _ = await uow.contracts.page(
            enterprise_id=enterprise.id, view="all", q=None, status=None, offset=0, limit=1
        )
    return [
        Step("verify", "企业实名认证", "认证后才能发起和签署合同", "/dashboard/verification",
             enterprise.verification_status == "verified"),
        Step("seal", "生成印章", "用于在合同上盖章", "/dashboard/seals", bool(seals)),
        Step("template", "准备合同模板", "上传模板并放置填写与签署控件，开启后可用", "/dashboard/templates",
             templates > 0),
        Step("invite", "邀请员工入职", "发送邀请短信或分享入职二维码", "/dashboard/onboarding/invite", invited),
        Step("launch", "发起签署", "选择模板和员工，发起电子劳动合同", "/dashboard/contracts/new",
             bool(launched)),
    ]  # fmt: skip
