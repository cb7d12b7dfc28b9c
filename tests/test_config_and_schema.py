"""Configuration loading and the migrations matching the table declarations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from laborsign.config import ConfigError, load_config
from laborsign.storage import mappings
from laborsign.storage.schema import metadata


def test_example_config_is_complete_and_valid() -> None:
    example = Path(__file__).parents[1] / "config.example.toml"
    config = load_config(example, environ={})
    assert config.server.port == 8080 and config.sms.provider == "outbox"
    # Every key the code knows is documented in the example.
    text = example.read_text(encoding="utf-8")
    for section, model in config:
        assert f"[{section}]" in text
        for key in type(model).model_fields:
            assert f"\n{key} = " in text, f"{section}.{key} missing from config.example.toml"


def test_environment_overrides_and_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[server]\nport = 9000\n[database]\nurl = ""\n', encoding="utf-8")
    config = load_config(
        cfg,
        environ={"LABORSIGN_SERVER__PORT": "9100", "LABORSIGN_SERVER__TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2"},
    )
    assert config.server.port == 9100 and config.server.trusted_proxies == ["10.0.0.1", "10.0.0.2"]
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_config(cfg, environ={"LABORSIGN_SERVER__PORT": "eighty"})
    with pytest.raises(ConfigError, match=r"database\.url"):
        load_config(cfg, environ={"LABORSIGN_DATABASE__URL": "mysql://x"})
    with pytest.raises(ConfigError, match=r"server\.colour"):
        load_config(cfg, environ={"LABORSIGN_SERVER__COLOUR": "red"})
    cfg.write_text("[server\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(cfg, environ={})


async def test_migrations_match_tables(database_url: str, client) -> None:  # type: ignore[no-untyped-def]
    mappings.map_all()
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    await engine.dispose()
    assert diff == [], f"tables and migrations disagree: {diff}"


def test_wechat_notice_template_fields(tmp_path: Path) -> None:
    default = load_config(environ={}).wechat.notice_template_fields
    assert default == {"first": "title", "keyword1": "text", "remark": "hint"}
    typed = load_config(
        environ={"LABORSIGN_WECHAT__NOTICE_TEMPLATE_FIELDS": "thing1=text, time2=time,phrase3=status"}
    )
    assert typed.wechat.notice_template_fields == {"thing1": "text", "time2": "time", "phrase3": "status"}
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[wechat]\nnotice_template_fields = { thing01 = "text", date2 = "time" }\n', encoding="utf-8"
    )
    assert load_config(cfg, environ={}).wechat.notice_template_fields == {"thing01": "text", "date2": "time"}

    def refused(value: str, *words: str) -> None:
        with pytest.raises(ConfigError) as caught:
            load_config(environ={"LABORSIGN_WECHAT__NOTICE_TEMPLATE_FIELDS": value})
        message = str(caught.value)
        assert "wechat.notice_template_fields" in message, message
        for word in words:
            assert word in message, message

    refused("thing1=text,thing2=txt", "thing2", "txt")  # an unknown value
    refused("thing1=text,character_string2=time", "character_string2")  # no value fits the type
    refused("thing1=text,time2=text", "time2")  # a time field takes the time, nothing else
    refused("thing1=text,phrase2=title", "phrase2")  # 5 Chinese characters: only the status
    refused("thing1=title,time2=time", "text")  # the notice itself must go somewhere
    refused("thing1=text,2thing=title", "2thing")  # not a template key
    refused("thing1=text,time2", "time2")  # key=value expected


def test_cli_help_and_config_errors_are_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    from laborsign.cli import build_parser, main

    text = build_parser().format_help()
    assert text.startswith("用法：") and "显示本帮助并退出" in text and "启动服务" in text
    for english in ("usage:", "show this help", "start the service", "positional arguments", "options:"):
        assert english not in text
    assert not re.search(r"[a-z]{4,} [a-z]{4,} [a-z]{4,}", text), "no English sentence left"
    with pytest.raises(SystemExit) as bad:
        main(["serve", "--port", "eighty"])
    assert bad.value.code == 2 and "参数错误" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_config(tmp_path / "missing.toml", environ={})
    with pytest.raises(ConfigError, match=r"配置无效 — server\.port: 应为整数"):
        load_config(environ={"LABORSIGN_SERVER__PORT": "eighty"})
    with pytest.raises(ConfigError, match=r"database\.url: 应以 sqlite\+aiosqlite://"):
        load_config(environ={"LABORSIGN_DATABASE__URL": "mysql://x"})
    with pytest.raises(ConfigError, match=r"server\.colour: 未知的配置项"):
        load_config(environ={"LABORSIGN_SERVER__COLOUR": "red"})
