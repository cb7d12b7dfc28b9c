"""Alembic environment: run against the connection handed in by `Database.migrate`,
or, from the alembic command line, against `LABORSIGN_DATABASE__URL` / config.toml."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from laborsign.storage import mappings
from laborsign.storage.schema import metadata

mappings.map_all()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_config() -> None:
    from laborsign.config import load_config
    from laborsign.storage.db import make_engine

    async def go() -> None:
        engine = make_engine(load_config().database_url)
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_from_config()
