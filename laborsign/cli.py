"""The `laborsign` command."""

from __future__ import annotations

import argparse
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
    config.data_dir.mkdir(parents=True, exist_ok=True)
    migrate_sync(config.database_url)
    print("数据库结构已是最新")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
