"""Controls are typed objects in core, stored as the JSON they always were: a row written
before `Control` existed loads into `Control`s and is written back byte for byte."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, column, select, table, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from laborsign.api.templates import control_json
from laborsign.core.controls import Control, ControlKind, FilledBy, validate_controls
from laborsign.core.ids import new_id
from laborsign.core.templates import Template
from laborsign.storage.db import make_engine
from laborsign.storage.schema import UTCDateTime
from laborsign.storage.templates import templates

A4 = {"width": 595.28, "height": 841.89}
FILES = [{"index": 0, "name": "合同.pdf", "blob": "b", "sha256": "", "pages": [A4, A4]}]

# What the designer sends (ints, a padded option, `file` and `required` left out) ...
DESIGNED = [
    {"key": "salary", "label": " 月工资 ", "kind": "number", "page": 1, "x": 100, "y": 200.004,
     "width": 120, "height": 20, "filled_by": "initiator"},
    {"key": "position", "label": "岗位", "kind": "choice", "file": 0, "page": 1, "x": 100.5, "y": 240,
     "width": 120, "height": 20, "required": False, "filled_by": "initiator", "options": [" 普工", "技工"]},
    {"key": "worker_sign", "label": "乙方签名", "kind": "signature", "file": 0, "page": 2, "x": 300, "y": 650,
     "width": 150, "height": 60, "required": True, "filled_by": "worker"},
    {"key": "company_seal", "label": "甲方盖章", "kind": "seal", "file": 0, "page": 2, "x": 80, "y": 620,
     "width": 120, "height": 120, "required": True, "filled_by": "enterprise", "options": ["ignored"]},
]  # fmt: skip
# ... and the row the dict-based validate_controls stored for it, key order included.
STORED = [
    {"key": "salary", "label": "月工资", "kind": "number", "file": 0, "page": 1, "x": 100.0, "y": 200.0,
     "width": 120.0, "height": 20.0, "required": True, "filled_by": "initiator"},
    {"key": "position", "label": "岗位", "kind": "choice", "file": 0, "page": 1, "x": 100.5, "y": 240.0,
     "width": 120.0, "height": 20.0, "required": False, "filled_by": "initiator", "options": ["普工", "技工"]},
    {"key": "worker_sign", "label": "乙方签名", "kind": "signature", "file": 0, "page": 2, "x": 300.0,
     "y": 650.0, "width": 150.0, "height": 60.0, "required": True, "filled_by": "worker"},
    {"key": "company_seal", "label": "甲方盖章", "kind": "seal", "file": 0, "page": 2, "x": 80.0, "y": 620.0,
     "width": 120.0, "height": 120.0, "required": True, "filled_by": "enterprise"},
]  # fmt: skip

# The templates table as it was declared before the column type: plain JSON.
legacy_templates = table(
    "templates",
    column("id"), column("scope"), column("name"), column("type"), column("status"),
    column("files", JSON), column("controls", JSON),
    column("created_at", UTCDateTime()), column("updated_at", UTCDateTime()),
)  # fmt: skip


def test_validated_controls_are_typed_and_dump_to_the_stored_shape() -> None:
    controls = validate_controls(DESIGNED, FILES)
    assert all(isinstance(c, Control) for c in controls)
    assert controls[1].kind is ControlKind.CHOICE and controls[1].options == ("普工", "技工")
    assert controls[2].filled_by is FilledBy.WORKER and controls[2].box == (2, 300.0, 650.0, 150.0, 60.0)
    dumped = [c.as_dict() for c in controls]
    assert json.dumps(dumped, ensure_ascii=False) == json.dumps(STORED, ensure_ascii=False)
    assert [Control.from_dict(d) for d in STORED] == controls


def test_the_api_writes_a_control_as_it_was_stored() -> None:
    """Before `Control`, the API returned the stored dicts themselves: same keys, same order."""
    for stored in STORED:
        out = control_json(Control.from_dict(stored))
        assert json.dumps(out, ensure_ascii=False) == json.dumps(stored, ensure_ascii=False)


def test_a_control_cannot_be_changed() -> None:
    control = Control.from_dict(STORED[1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        control.page = 2  # type: ignore[misc]
    control.as_dict()["options"].append("管理")  # a copy: the control keeps its options
    moved = control.on_page(5)
    assert (control.page, control.options) == (1, ("普工", "技工"))
    assert (moved.page, moved.file, moved.key) == (5, 0, "position")


async def test_an_old_row_round_trips_through_the_column_type(database_url: str) -> None:
    engine = make_engine(database_url)
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    tid = new_id()
    raw = text("SELECT CAST(controls AS TEXT) FROM templates WHERE id = :id").bindparams(id=tid)
    try:
        async with engine.begin() as conn:
            await conn.execute(legacy_templates.insert().values(
                id=tid, scope="public", name="旧模板", type="labor_contract", status="closed", files=FILES,
                controls=STORED, created_at=now, updated_at=now,
            ))  # fmt: skip
            written_before = (await conn.execute(raw)).scalar_one()
        async with AsyncSession(engine) as session:
            template = await session.get(Template, tid)
            assert template is not None
            assert template.controls == [Control.from_dict(d) for d in STORED]
            assert template.controls[3].kind is ControlKind.SEAL and template.controls[1].required is False
        async with engine.begin() as conn:
            loaded = (
                await conn.execute(select(templates.c.controls).where(templates.c.id == tid))
            ).scalar_one()
            await conn.execute(update(templates).where(templates.c.id == tid).values(controls=loaded))
            assert (await conn.execute(raw)).scalar_one() == written_before
            # Written from the designer's input by today's code: the same text again.
            await conn.execute(
                update(templates)
                .where(templates.c.id == tid)
                .values(controls=validate_controls(DESIGNED, FILES))
            )
            assert (await conn.execute(raw)).scalar_one() == written_before
            assert json.loads(written_before) == STORED
    finally:
        await engine.dispose()
