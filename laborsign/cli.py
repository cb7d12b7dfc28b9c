"""The `laborsign` command."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from .config import ConfigError, load_config


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .bootstrap import create_app
    from .logs import setup_logging

    config = load_config(args.config)
    if args.host:
        config.server.host = args.host
    if args.port:
        config.server.port = args.port
    setup_logging()
    from .storage.chat_steps import SWITCH_INTERVAL

    sys.setswitchinterval(SWITCH_INTERVAL)
    app = create_app(config)
    app.on_startup.append(_settle_heap)  # after every other start-up step (appended last)
    print(f"LaborSign 已启动：http://{config.server.host}:{config.server.port}/  数据目录：{config.data_dir}")
    web.run_app(app, host=config.server.host, port=config.server.port, print=None, access_log=None)
    return 0


GC_GEN0_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)


async def _settle_heap(app: Any) -> None:
    """Process-wide collector knobs, once the app has started: what start-up built (modules,
    routes, mappers, pools) lives as long as the process, so it is frozen out of every later
    collection; and a young collection every 20,000 allocations instead of 700 (a webhook
    message allocates thousands of short-lived objects, most gone by reference count)."""
    import gc

    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def _migrate(args: argparse.Namespace) -> int:
    from .storage.db import migrate_sync

    config = load_config(args.config)
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    migrate_sync(config.database_url)
    print("数据库结构已是最新")
    return 0


def _create_staff(args: argparse.Namespace) -> int:
    import asyncio

    from .bootstrap import build_deps
    from .core.errors import DomainError
    from .core.services.accounts import create_platform_staff

    async def run() -> int:
        deps = build_deps(load_config(args.config))
        try:
            await deps.db.migrate()
            user = await create_platform_staff(deps, args.phone, args.name, args.role, args.password)
        except DomainError as exc:
            print(f"失败：{exc.message}", file=sys.stderr)
            return 1
        finally:
            await deps.db.dispose()
        print(f"已设置 {user.name}（{args.phone}）为 {args.role}；请在 /console/login 用短信验证码或密码登录")
        return 0

    return asyncio.run(run())


def _storage_migrate(args: argparse.Namespace) -> int:
    """Copies the local file store (data_dir/files, or --source) into the configured bucket."""
    import asyncio
    from pathlib import Path

    from .bootstrap import build_blob_backend
    from .storage.blobs import LocalBlobs
    from .storage.db import Database
    from .storage.transfer import copy_store

    config = load_config(args.config)
    if config.storage.backend != "s3":
        print('配置错误：storage.backend 须为 "s3"（目标存储桶）', file=sys.stderr)
        return 2
    source_dir = Path(args.source).resolve() if args.source else config.data_dir / "files"
    if not source_dir.is_dir():
        print(f"找不到本地文件目录：{source_dir}", file=sys.stderr)
        return 2

    async def run() -> int:
        db = Database(config.database_url)
        target = build_blob_backend(config)
        try:
            await db.migrate()
            report = await copy_store(LocalBlobs(source_dir), target, db.engine)
        finally:
            await target.close()
            await db.dispose()
        print(f"已复制 {report.copied} 个文件，{report.already_there} 个已在存储桶中且校验一致")
        for label, keys in (
            ("本地文件已损坏（SHA-256 与文件名不符），未复制", report.damaged_source),
            ("写入存储桶失败或读回校验不一致", report.failed),
            ("数据库引用但存储桶中没有", report.missing),
        ):
            if keys:
                print(f"{label}：{len(keys)} 个", file=sys.stderr)
                for key in keys[:20]:
                    print(f"  {key}", file=sys.stderr)
        if report.ok:
            print('全部文件的 SHA-256 校验通过；可将 storage.backend 设为 "s3" 启动')
        return 0 if report.ok else 1

    return asyncio.run(run())


def _chat_worker(args: argparse.Namespace) -> int:
    """The chat channels without the web server: the DingTalk stream connection (when enabled,
    held by one process among several) and the outbox deliverer."""
    import asyncio

    from .bootstrap import build_deps
    from .bots.runtime import ChatRuntime
    from .logs import setup_logging

    config = load_config(args.config)
    setup_logging()

    async def run() -> None:
        deps = build_deps(config)
        await deps.start()
        chat = ChatRuntime(deps, config)
        try:
            async with chat.running(background=True):
                print("聊天渠道后台已启动（Ctrl-C 退出）")
                await asyncio.Event().wait()
        finally:
            await deps.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


def _check_config(args: argparse.Namespace) -> int:
    """Per capability: the provider in use and what it lacks; then what production refuses.
    Exits 1 when production would refuse this configuration (whatever its environment)."""
    from .readiness import capabilities, findings

    config = load_config(args.config, check=False)
    print(f"LaborSign 配置检查（server.environment = {config.server.environment}）")
    print()
    for cap in capabilities(config):
        inherited = "（沿用 identity.provider）" if cap.inherited else ""
        state = (
            "缺少 " + "、".join(cap.missing)
            if cap.missing
            else ("仅限开发环境" if cap.development_only else "就绪")
        )
        print(f"{cap.label}")
        print(f"    {cap.key} = {cap.provider_label}{inherited}  —  {state}")
    found = findings(config)
    print()
    if not found:
        print('检查通过：生产环境（server.environment = "production"）可以启动。')
        return 0
    now = [f for f in found if not f.production_only]
    print(f"生产环境将拒绝启动，共 {len(found)} 项：")
    for f in found:
        print(f"  ✗ {f.key}: {f.message}")
    if config.server.environment == "production" or now:
        print("\n当前配置无法启动。")
    else:
        print("\n当前为开发环境（development），可以启动；上线前请逐项处理。")
    return 1


def _demo(args: argparse.Namespace) -> int:
    import asyncio

    from .demo import DemoError, Plan, run_demo

    config = load_config(args.config)
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    jobs = args.jobs or os.cpu_count() or 1
    # Unless told, a tenant per 100,000 contracts and an employee per ten contracts.
    tenants = args.enterprises or max(1, args.contracts // 100_000)
    staff = args.employees if args.employees is not None else max(200, args.contracts // 10)
    plan = Plan(enterprises=tenants, employees=staff, contracts=args.contracts, jobs=jobs)
    if min(args.enterprises, plan.employees, plan.contracts, args.jobs) < 0:
        print("参数错误：--enterprises、--employees、--contracts、--jobs 不能为负数", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run_demo(config, plan))
    except DemoError as exc:
        print(f"失败：{exc}", file=sys.stderr)
        return 1
    for line in result.login_lines(config.public_url):
        print(line)
    print(result.json_line(), flush=True)
    return 0


CONFIG_HELP = "配置文件 config.toml 的路径（默认为当前目录下的 config.toml，如存在）"


class _parser(argparse.ArgumentParser):
    """argparse in Chinese: the help option, the section titles, the error line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "命令"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "用法：", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "用法：", 1)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：参数错误：{message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _parser(prog="laborsign", description="LaborSign 电子劳动合同平台")
    sub = parser.add_subparsers(
        dest="command", required=True, title="命令", metavar="<命令>", parser_class=_parser
    )
    serve = sub.add_parser(
        "serve",
        help="启动服务（网页、API、回调、后台任务）",
        description="启动服务（网页、API、回调、后台任务）",
    )
    serve.add_argument("--config", help=CONFIG_HELP)
    serve.add_argument("--host", help="监听地址（覆盖 server.host）")
    serve.add_argument("--port", type=int, help="监听端口（覆盖 server.port）")
    serve.set_defaults(func=_serve)
    migrate = sub.add_parser("migrate", help="创建或升级数据库表结构", description="创建或升级数据库表结构")
    migrate.add_argument("--config", help=CONFIG_HELP)
    migrate.set_defaults(func=_migrate)
    staff_help = "创建平台监管端账号：regulator（公共模板管理）或 reviewer（授权书审核）"
    staff = sub.add_parser("create-staff", help=staff_help, description=staff_help)
    staff.add_argument("--config", help=CONFIG_HELP)
    staff.add_argument("--role", required=True, choices=["regulator", "reviewer"], help="角色")
    staff.add_argument("--phone", required=True, help="手机号（登录用）")
    staff.add_argument("--name", required=True, help="姓名")
    staff.add_argument("--password", help="登录密码（选填；不填则用短信验证码登录）")
    staff.set_defaults(func=_create_staff)
    storage_help = "把本地文件存储复制到配置中的 S3 存储桶，逐个核对 SHA-256"
    storage = sub.add_parser("storage-migrate", help=storage_help, description=storage_help)
    storage.add_argument("--config", help=CONFIG_HELP)
    storage.add_argument("--source", help="本地文件存储目录（默认 storage.data_dir/files）")
    storage.set_defaults(func=_storage_migrate)
    chat_help = "不启动网页服务，单独运行消息渠道：钉钉 Stream 客户端与消息投递"
    chat = sub.add_parser("chat-worker", help=chat_help, description=chat_help)
    chat.add_argument("--config", help=CONFIG_HELP)
    chat.set_defaults(func=_chat_worker)
    check_help = "列出各项能力由哪个服务商提供、生产环境会拒绝哪些配置（有则退出码为 1）"
    check = sub.add_parser("check-config", help=check_help, description=check_help)
    check.add_argument("--config", help=CONFIG_HELP)
    check.set_defaults(func=_check_config)
    demo = sub.add_parser(
        "demo",
        help="为开发环境生成示例数据（已认证企业、部门、员工、模板、各状态合同）并说明如何登录；最后一行为 JSON",
    )
    demo.add_argument("--config", help=CONFIG_HELP)
    demo.add_argument(
        "--enterprises", type=int, default=0,
        help="企业数，登录用第一家（默认每 10 万份合同一家）",
    )  # fmt: skip
    demo.add_argument(
        "--employees", type=int, help="员工总数，分给各企业（默认合同数的十分之一，至少 200）"
    )
    demo.add_argument("--contracts", type=int, default=500, help="合同总数，分给各企业（默认 500）")
    demo.add_argument("--jobs", type=int, default=0, help="写入合同的进程数（默认每核一个，仅 PostgreSQL）")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Whatever the service or a library it uses writes (database, contracts, keys, temporary
    # files) is its own user's only; the explicit modes of the data folder do not rely on it.
    os.umask(0o077)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
