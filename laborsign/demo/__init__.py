"""`laborsign demo`: a fresh install filled with data to try and to measure.

First a walk through the real product (`walk.py`), then rows in bulk cloned from it
(`bulk.py`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from ..config import Config
from .bulk import Plan, Seeder, utcnow
from .walk import DemoError, ShiftedClock, Walked, walk

ENTERPRISE_NAME = "广州示例智造科技有限公司"


@dataclass
class DemoResult:
    walked: Walked
    made: dict[str, int]
    seconds: float
    bulk_seconds: float
    phases: dict[str, float]

    def login_lines(self, public_url: str) -> list[str]:
        w = self.walked
        rate = self.made["contracts"] / max(self.bulk_seconds, 1e-6)
        return [
            f"示例数据已生成：企业 {self.made['enterprises']} 家，员工 {self.made['employees'] + 1} 名，"
            f"合同 {self.made['contracts'] + 2} 份（批量写入 {self.bulk_seconds:.1f} 秒，约 {rate:,.0f} 份/秒；"
            f"其中建索引 {self.phases.get('indexes', 0):.1f} 秒、更新统计 {self.phases.get('statistics', 0):.1f} 秒）。",
            f"企业：{w.enterprise_name}（已实名认证），部门、员工、印章已建好，"
            "模板“标准劳动合同（全日制·本企业）”已启用（另有平台公共模板“标准劳动合同（全日制）”），合同涵盖签署中、已完成、已撤回、已拒签、已过期各状态。",
            "先启动服务：laborsign serve（与本命令使用同一配置）。",
            f"HR 登录：打开 {public_url}/login ，输入手机号 {w.hr_phone}，点“获取验证码”。",
            f"劳动者登录：打开 {public_url}/h5/login ，输入手机号 {w.worker_phone}，有一份待签合同。",
            "开发环境不发真实短信，验证码在本机浏览器打开下面的地址查看（仅限本机访问）：",
            f"  {public_url}/api/v1/dev/sms?phone={w.hr_phone}",
            f"  {public_url}/api/v1/dev/sms?phone={w.worker_phone}",
        ]

    def json_line(self) -> str:
        w = self.walked
        return json.dumps(
            {"enterprise_id": w.enterprise_id, "hr_phone": w.hr_phone, "worker_phone": w.worker_phone},
            ensure_ascii=False,
        )


def check_development(config: Config) -> None:
    """The walk reads codes and payment amounts from the development doors."""
    if config.server.environment == "production":
        raise DemoError('生产环境（server.environment = "production"）不能生成示例数据')
    wanted = {
        "sms.provider": (config.sms.provider, "outbox"),
        "identity.carrier_provider": (config.identity.chosen("carrier"), "sandbox"),
        "identity.corporate_payment_provider": (config.identity.chosen("corporate_payment"), "sandbox"),
    }
    for key, (value, need) in wanted.items():
        if value != need:
            raise DemoError(f'生成示例数据需要 {key} = "{need}"（当前为 "{value}"）')


async def run_demo(config: Config, plan: Plan) -> DemoResult:
    from ..bootstrap import create_app
    from ..http import DEPS
    from ..storage.db import make_engine

    check_development(config)
    started = time.perf_counter()
    # The walk is one person asking for a dozen codes from this host: no captcha for it.
    walker = config.model_copy(deep=True)
    walker.security.sms_codes_per_ip_before_captcha = walker.security.sms_codes_per_ip_hour = 10_000
    clock = ShiftedClock()
    app = create_app(walker, clock=clock)
    walked = await walk(app, clock, ENTERPRISE_NAME)
    cipher = app[DEPS].cipher
    engine: AsyncEngine = make_engine(config.database_url, 2, False)
    try:
        bulk_started = time.perf_counter()
        seeder = Seeder(walked, cipher, utcnow(), jobs=plan.jobs)
        made = await seeder.run(engine, plan)
        bulk_seconds = time.perf_counter() - bulk_started
    finally:
        await engine.dispose()
    return DemoResult(walked, made, time.perf_counter() - started, bulk_seconds, seeder.timings)


__all__ = ["DemoError", "DemoResult", "Plan", "run_demo"]
