"""The onboarding form as data: the per-field parsers a chat conversation calls one question at
a time, and the whole-form check the H5 form uses — the same rules through both doors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from laborsign.core.errors import Invalid, WrongState
from laborsign.core.onboarding import (
    FIELDS_BY_KEY,
    ONBOARDING_FIELDS,
    OnboardingRecord,
    OnboardingStatus,
    validate_onboarding,
)

TODAY = date(2026, 11, 27)
FORM: dict[str, Any] = {
    "name": "王五",
    "gender": "male",
    "id_type": "resident_id",
    "id_number": "44010119900307123x",
    "birth_date": "1990-03-07",
    "phone": "13700137000",
    "address": "广州市天河区体育西路100号",
    "emergency_contact": {"name": "王大", "relation": "父母", "phone": "13600136000"},
}


def parse(key: str, raw: str) -> Any:
    return FIELDS_BY_KEY[key].parse(raw, TODAY)


def refused(key: str, raw: str) -> str:
    with pytest.raises(Invalid) as caught:
        parse(key, raw)
    (field, message), *_ = caught.value.fields.items()
    assert field == key
    return message


def test_fields_in_order_with_prompts_and_choices() -> None:
    assert [f.key for f in ONBOARDING_FIELDS] == [
        "name", "gender", "id_type", "id_number", "birth_date", "phone", "address",
        "emergency_contact.name", "emergency_contact.relation", "emergency_contact.phone",
    ]  # fmt: skip
    for spec in ONBOARDING_FIELDS:
        assert spec.label and spec.prompt, spec.key
    assert FIELDS_BY_KEY["gender"].choices == ("男", "女")
    assert "护照" in FIELDS_BY_KEY["id_type"].choices
    assert "父母" in FIELDS_BY_KEY["emergency_contact.relation"].choices


def test_chat_answers_are_parsed_leniently() -> None:
    assert parse("name", "  王五 ") == "王五"
    assert parse("gender", "女") == "female" and parse("gender", "male") == "male"
    assert parse("id_type", "1") == "resident_id" and parse("id_type", "身份证") == "resident_id"
    assert parse("id_type", "4") == "passport" and parse("id_type", "台胞证") == "taiwan_permit"
    assert parse("birth_date", "1990年3月7日") == date(1990, 3, 7)
    assert parse("birth_date", "1990/03/07") == date(1990, 3, 7) == parse("birth_date", "19900307")
    assert parse("phone", "+86 137-0013-7000") == "13700137000"
    assert parse("emergency_contact.relation", "1") == "父母"


def test_chat_answers_refused_with_chinese_reasons() -> None:
    assert "姓名" in refused("name", "王")
    assert "姓名" in refused("name", "王<script>")
    assert "男" in refused("gender", "未知")
    assert "证件类型" in refused("id_type", "驾驶证")
    assert "不存在" in refused("birth_date", "1990-02-30")
    assert "不合理" in refused("birth_date", "2030-01-01")
    assert "手机号" in refused("phone", "12345678901")
    assert "住址" in refused("address", "广州")
    assert "关系" in refused("emergency_contact.relation", "9")
    assert "紧急联系人" in refused("emergency_contact.name", "x")


def test_whole_form_valid() -> None:
    data = validate_onboarding(FORM, TODAY)
    assert data.id_number == "44010119900307123X", "normalised to upper case"
    assert data.birth_date == date(1990, 3, 7) and data.gender == "male"
    assert (data.contact_name, data.contact_relation, data.contact_phone) == ("王大", "父母", "13600136000")


def test_whole_form_reports_every_problem_at_once() -> None:
    with pytest.raises(Invalid) as caught:
        validate_onboarding(
            {**FORM, "name": "", "address": "广州", "emergency_contact": {"name": "王大", "phone": "136"}},
            TODAY,
        )
    assert set(caught.value.fields) == {
        "name", "address", "emergency_contact.relation", "emergency_contact.phone",
    }  # fmt: skip
    assert caught.value.fields["name"] == "请填写姓名"


def test_resident_id_must_agree_with_birth_date_and_gender() -> None:
    with pytest.raises(Invalid) as caught:
        validate_onboarding({**FORM, "gender": "female", "birth_date": "1990-03-08"}, TODAY)
    assert caught.value.fields == {
        "birth_date": "出生日期与身份证号码不一致",
        "gender": "性别与身份证号码不一致",
    }
    with pytest.raises(Invalid) as caught:
        validate_onboarding({**FORM, "id_number": "440101199003071230"}, TODAY)
    assert "校验位" in caught.value.fields["id_number"]


def test_other_documents_follow_real_name_rules() -> None:
    passport = validate_onboarding({**FORM, "id_type": "passport", "id_number": "E12345678"}, TODAY)
    assert passport.id_type == "passport"
    permit = validate_onboarding({**FORM, "id_type": "hk_macau_permit", "id_number": "H12345678"}, TODAY)
    assert permit.id_number == "H12345678"
    with pytest.raises(Invalid) as caught:
        validate_onboarding({**FORM, "id_type": "hk_macau_permit", "id_number": "12345678"}, TODAY)
    assert "港澳" in caught.value.fields["id_number"]


def test_emergency_contact_phone_differs_from_own() -> None:
    with pytest.raises(Invalid) as caught:
        validate_onboarding(
            {**FORM, "emergency_contact": {**FORM["emergency_contact"], "phone": FORM["phone"]}}, TODAY
        )
    assert caught.value.fields == {"emergency_contact.phone": "紧急联系人手机号不能与本人相同"}


def test_hostile_shapes_are_refused_not_crashing() -> None:
    for data in (
        {},
        {"emergency_contact": "x"},
        {"name": ["王五"], "emergency_contact": [1]},
        {"birth_date": 5},
    ):
        with pytest.raises(Invalid) as caught:
            validate_onboarding(data, TODAY)
        assert "name" in caught.value.fields


def record() -> OnboardingRecord:
    return OnboardingRecord(
        enterprise_id="e", user_id="u", name="王五", phone="13700137000", gender="male", id_type="resident_id",
        id_number_enc="x", id_number_hash="h", id_number_masked="4401**********123X", birth_date=date(1990, 3, 7),
        address="广州市天河区体育西路100号", emergency_contact={"name": "王大", "relation": "父母", "phone": "13600136000"},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
    )  # fmt: skip


def test_review_transitions() -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    r = record()
    r.correct(
        {"address": "广州市海珠区新港中路1号", "emergency_contact": {"relation": "配偶"}}, "hr", TODAY, now
    )
    assert r.address == "广州市海珠区新港中路1号" and r.emergency_contact["relation"] == "配偶"
    assert r.emergency_contact["name"] == "王大", "other contact fields are kept"
    with pytest.raises(Invalid) as caught:
        r.correct({"id_number": "x", "phone": "1"}, "hr", TODAY, now)
    assert set(caught.value.fields) == {"id_number", "phone"}
    with pytest.raises(Invalid):
        r.reject("hr", "  ", now)
    r.approve("hr", "employee-1", now)
    assert r.status == OnboardingStatus.APPROVED and r.employee_id == "employee-1"
    for act in (lambda: r.approve("hr", "e2", now), lambda: r.reject("hr", "迟了", now),
                lambda: r.correct({"address": "广州市越秀区1号"}, "hr", TODAY, now)):  # fmt: skip
        with pytest.raises(WrongState):
            act()


# -- over HTTP: joining again ---------------------------------------------------------------------


async def test_joining_again_while_employed_is_refused(api: Any, make_api: Any, clock: Any) -> None:
    """An employee on the roster cannot file a second onboarding for the same employer (it
    would put them on the roster twice); after resignation they can join again."""
    from tests.test_onboarding import onboard

    await api.register_enterprise(clock)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    approved = await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    link = await api.get("/api/v1/invite-link")
    again = await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=409)
    assert again["error"] == "already_employee" and "在职" in again["message"]
    eid = approved["employee_id"]
    await api.post(f"/api/v1/employees/{eid}/resignation", {"reason": "个人原因"}, expect=200)
    await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=409)  # still 待确认离职
    await api.post(f"/api/v1/employees/{eid}/resignation/confirm", {"handover_to": "李四"}, expect=200)
    back = await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=201)
    approved = await api.post(f"/api/v1/onboarding/{back['id']}/approve", {}, expect=200)
    assert (await api.get("/api/v1/employees?status=active"))["total"] == 1


async def test_simultaneous_submissions_make_one_record(api: Any, make_api: Any, clock: Any) -> None:
    """A double tap, or the H5 form and a chat at the same moment: one pending record, the
    others refused with 409."""
    import asyncio

    from tests.test_onboarding import WORKER

    await api.register_enterprise(clock)
    worker = await make_api()
    await worker.login(clock, WORKER, side="worker")
    link = await api.get("/api/v1/invite-link")
    answers = await asyncio.gather(
        *[worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM) for _ in range(4)]
    )
    assert sorted(a.get("status") or a["error"] for a in answers) == [
        "onboarding_pending", "onboarding_pending", "onboarding_pending", "pending_review",
    ]  # fmt: skip
    assert (await api.get("/api/v1/onboarding?status=pending_review"))["total"] == 1
