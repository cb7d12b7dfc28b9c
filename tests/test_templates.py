"""Templates over HTTP: upload, controls, enable/disable, previews, public templates."""

from __future__ import annotations

from typing import Any

import aiohttp

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.services.accounts import create_platform_staff
from tests.conftest import Api
from tests.pdfs import encrypted_pdf, make_pdf

CONTROLS = [
    {"key": "salary", "label": "月工资", "kind": "number", "file": 0, "page": 1, "x": 100, "y": 200,
     "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "position", "label": "岗位", "kind": "choice", "file": 0, "page": 1, "x": 100, "y": 240,
     "width": 120, "height": 20, "required": True, "filled_by": "initiator", "options": ["普工", "技工"]},
    {"key": "worker_sign", "label": "乙方签名", "kind": "signature", "file": 0, "page": 2, "x": 300, "y": 650,
     "width": 150, "height": 60, "required": True, "filled_by": "worker"},
    {"key": "company_seal", "label": "甲方盖章", "kind": "seal", "file": 0, "page": 2, "x": 80, "y": 620,
     "width": 120, "height": 120, "required": True, "filled_by": "enterprise"},
]  # fmt: skip


async def upload(
    api: Api, name: str = "标准劳动合同", files: list[bytes] | None = None, type_: str = "labor_contract"
) -> Any:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("name", name)
    form.add_field("type", type_)
    for i, data in enumerate(files if files is not None else [make_pdf(2)]):
        form.add_field("files", data, filename=f"合同{i}.pdf", content_type="application/pdf")
    return await api.call("POST", "/api/v1/templates", data=form)


async def enabled_template(api: Api) -> Any:
    """An uploaded template with the standard controls, enabled: ready to launch from."""
    template = await upload(api)
    await api.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": CONTROLS}, expect=200)
    await api.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    return template


async def test_template_lifecycle(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    created = await upload(api, files=[make_pdf(2), make_pdf(1)])
    assert api.last_status == 201, created
    assert created["status"] == "closed"
    assert [(f["index"], f["pages"]) for f in created["files"]] == [(0, 2), (1, 1)]
    tid = created["id"]
    # A closed template without signature areas cannot be enabled.
    refused = await api.post(f"/api/v1/templates/{tid}/enable", expect=409)
    assert refused["error"] == "template_incomplete" and "劳动者签名区" in refused["message"]
    saved = await api.call("PUT", f"/api/v1/templates/{tid}/controls", {"controls": CONTROLS}, expect=200)
    assert [c["key"] for c in saved["controls"]] == ["salary", "position", "worker_sign", "company_seal"]
    enabled = await api.post(f"/api/v1/templates/{tid}/enable", expect=200)
    assert enabled["status"] == "enabled"
    await api.post(f"/api/v1/templates/{tid}/enable", expect=409)
    listed = await api.get("/api/v1/templates?scope=enterprise")
    assert listed["total"] == 1 and listed["items"][0]["control_count"] == 4
    png = await api.get(f"/api/v1/templates/{tid}/files/0/pages/2.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    await api.get(f"/api/v1/templates/{tid}/files/0/pages/3.png", expect=404)
    await api.get(f"/api/v1/templates/{tid}/files/5.pdf", expect=404)
    original = await api.get(f"/api/v1/templates/{tid}/files/1.pdf")
    assert original.startswith(b"%PDF")
    renamed = await api.call("PATCH", f"/api/v1/templates/{tid}", {"name": "劳动合同（2027版）"}, expect=200)
    assert renamed["name"] == "劳动合同（2027版）"
    await api.post(f"/api/v1/templates/{tid}/disable", expect=200)
    await api.call("DELETE", f"/api/v1/templates/{tid}", expect=204)
    await api.get(f"/api/v1/templates/{tid}", expect=404)


async def test_control_validation(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    tid = (await upload(api))["id"]
    bad = [
        {**CONTROLS[0], "x": 550},  # beyond the A4 width
        {**CONTROLS[0], "key": "salary"},  # duplicate key
        {**CONTROLS[2], "filled_by": "enterprise"},  # a worker signature filled by the enterprise
        {**CONTROLS[3], "page": 9},
        {**CONTROLS[1], "options": ["只有一个"]},
        {**CONTROLS[0], "key": "9bad", "kind": "text"},
    ]
    answer = await api.call("PUT", f"/api/v1/templates/{tid}/controls", {"controls": bad}, expect=422)
    fields = answer["fields"]
    assert "超出了页面范围" in fields["controls[0].x"]
    assert "重复" in fields["controls[1].key"]
    assert "劳动者" in fields["controls[2].filled_by"]
    assert "页码" in fields["controls[3].page"]
    assert "选项" in fields["controls[4].options"]
    assert "字母开头" in fields["controls[5].key"]
    unchanged = await api.get(f"/api/v1/templates/{tid}")
    assert unchanged["controls"] == []


async def test_hostile_uploads(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    cases = [
        (b"not a pdf at all", 415),
        (b"", 415),
        (make_pdf(3)[:400], 415),  # truncated
        (encrypted_pdf(), 422),
        (make_pdf(101), 422),  # too many pages
    ]
    for data, status in cases:
        answer = await upload(api, files=[data])
        assert api.last_status == status, (status, answer)
        assert answer["message"] and answer["error"]
    huge = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 + 10)
    answer = await upload(api, files=[huge])
    assert api.last_status == 413 and "20MB" in answer["message"]
    answer = await upload(api, files=[])
    assert api.last_status == 422 and "files" in answer["fields"]
    answer = await upload(api, name="", type_="nonsense")
    assert api.last_status == 422 and {"name", "type"} <= set(answer["fields"])
    listed = await api.get("/api/v1/templates?scope=enterprise")
    assert listed["total"] == 0, "nothing is stored from a refused upload"


async def test_permissions_and_public_templates(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    await api.post(
        "/api/v1/members", {"name": "李四", "phone": "13900139000", "permissions": ["contracts"]}, expect=201
    )
    li = await make_api()
    await li.login(clock, "13900139000")
    refused = await upload(li)
    assert li.last_status == 403 and refused["error"] == "permission_denied"

    await create_platform_staff(client.app[DEPS], "13500135000", "监管员", "regulator", "regul8tor")
    regulator = await make_api()
    await regulator.post(
        "/api/v1/auth/login",
        {"side": "platform", "phone": "13500135000", "password": "regul8tor", "agree_terms": True},
        expect=200,
    )
    public = await upload(regulator, name="广州市劳动合同示范文本")
    assert regulator.last_status == 201 and public["scope"] == "public"
    # Closed public templates are invisible to enterprises.
    assert (await api.get("/api/v1/templates?scope=public"))["total"] == 0
    await api.get(f"/api/v1/templates/{public['id']}", expect=404)
    await regulator.call(
        "PUT", f"/api/v1/templates/{public['id']}/controls", {"controls": CONTROLS}, expect=200
    )
    await regulator.post(f"/api/v1/templates/{public['id']}/enable", expect=200)
    seen = await li.get("/api/v1/templates?scope=all")
    assert [t["name"] for t in seen["items"]] == ["广州市劳动合同示范文本"]
    # Enterprises read public templates but may not change them.
    await api.get(f"/api/v1/templates/{public['id']}", expect=200)
    refused = await api.post(f"/api/v1/templates/{public['id']}/disable", expect=403)
    assert refused["error"] == "platform_only"
