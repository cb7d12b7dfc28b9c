"""The `laborsign` command."""

from __future__ import annotations

import argparse
import os
import sys

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
    app = create_app(config)
    print(f"LaborSign 已启动：http://{config.server.host}:{config.server.port}/  数据目录：{config.data_dir}")
    web.run_app(app, host=config.server.host, port=config.server.port, print=None, access_log=None)
    return 0


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
        print("配置错误：storage.backend 须为 \"s3\"（目标存储桶）", file=sys.stderr)
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
            print("全部文件的 SHA-256 校验通过；可将 storage.backend 设为 \"s3\" 启动")
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
        state = "缺少 " + "、".join(cap.missing) if cap.missing else ("仅限开发环境" if cap.development_only else "就绪")
        print(f"{cap.label}")
        print(f"    {cap.key} = {cap.provider_label}{inherited}  —  {state}")
    found = findings(config)
    print()
    if not found:
        print("检查通过：生产环境（server.environment = \"production\"）可以启动。")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="laborsign", description="LaborSign 电子劳动合同平台")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the service (web, API, webhooks, background jobs)")
    serve.add_argument("--config", help="path to config.toml (default ./config.toml when present)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=_serve)
    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--config")
    migrate.set_defaults(func=_migrate)
    staff = sub.add_parser(
        "create-staff", help="create a platform account: regulator (public templates) or reviewer"
    )
    staff.add_argument("--config")
    staff.add_argument("--role", required=True, choices=["regulator", "reviewer"])
    staff.add_argument("--phone", required=True)
    staff.add_argument("--name", required=True)
    staff.add_argument("--password", help="optional; otherwise log in with an SMS code")
    staff.set_defaults(func=_create_staff)
    storage = sub.add_parser(
        "storage-migrate",
        help="copy the local file store into the S3 bucket of the configuration, checking every SHA-256",
    )
    storage.add_argument("--config")
    storage.add_argument("--source", help="local file store (default: storage.data_dir/files)")
    storage.set_defaults(func=_storage_migrate)
    chat = sub.add_parser(
        "chat-worker",
        help="run the chat channels without the web server: DingTalk stream client and outbox deliverer",
    )
    chat.add_argument("--config")
    chat.set_defaults(func=_chat_worker)
    check = sub.add_parser(
        "check-config",
        help="print which provider plays each capability and what production would refuse (exit 1 then)",
    )
    check.add_argument("--config")
    check.set_defaults(func=_check_config)
    demo = sub.add_parser(
        "demo",
        help="为开发环境生成示例数据（已认证企业、部门、员工、模板、各状态合同）并说明如何登录；最后一行为 JSON",
    )
    demo.add_argument("--config")
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
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
