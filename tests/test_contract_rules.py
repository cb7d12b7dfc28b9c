"""The contract state machine and the audit chain, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from laborsign.core.contracts import (
    Contract,
    ContractStatus,
    Party,
    PartyStatus,
    chain_event,
    validate_contract_name,
    verify_chain,
)
from laborsign.core.errors import Invalid, WrongState

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def contract(**kw: object) -> Contract:
    base = dict(
        enterprise_id="e", batch_id="b", name="劳动合同", employee_id="emp", created_by="u", created_at=T0,
        source="template", document_blob="x" * 64, original_blob="x" * 64, original_sha256="x" * 64,
    )  # fmt: skip
    base.update(kw)
    return Contract(**base)  # type: ignore[arg-type]


def test_reminder_windows() -> None:
    c = contract()
    with pytest.raises(WrongState) as exc:
        c.remind(T0)
    assert exc.value.code == "not_signing"
    c.launch(T0)
    with pytest.raises(WrongState) as exc:
        c.remind(T0 + timedelta(hours=5, minutes=59))
    assert exc.value.code == "remind_too_early"
    assert exc.value.extra["next_allowed_at"] == (T0 + timedelta(hours=6)).isoformat()
    assert "2026-11-27 16:00" in exc.value.message  # China time in the message
    c.remind(T0 + timedelta(hours=6))
    with pytest.raises(WrongState) as exc:
        c.remind(T0 + timedelta(hours=6, minutes=29))
    assert exc.value.code == "remind_too_frequent"
    c.remind(T0 + timedelta(hours=6, minutes=30))


def test_withdraw_decline_expire_and_complete() -> None:
    c = contract(sign_deadline=T0 + timedelta(days=7))
    with pytest.raises(WrongState):
        c.withdraw("x", T0)
    c.launch(T0)
    w = Party(contract_id=c.id, role="worker", name="王五")
    e = Party(contract_id=c.id, role="enterprise", name="公司")
    assert not c.record_signature(
        w, [w, e], user_id="u1", method="sms", new_blob="a" * 64, new_sha256="a", now=T0
    )
    with pytest.raises(WrongState):
        c.record_signature(w, [w, e], user_id="u1", method="sms", new_blob="b" * 64, new_sha256="b", now=T0)
    assert c.record_signature(
        e, [w, e], user_id="u2", method="sms", new_blob="c" * 64, new_sha256="c", now=T0
    )
    assert c.status == ContractStatus.COMPLETED and c.version == 2
    with pytest.raises(WrongState):
        c.withdraw("x", T0)

    d = contract(sign_deadline=T0 + timedelta(days=1))
    d.launch(T0)
    assert not d.expire(T0 + timedelta(hours=23))
    assert d.expire(T0 + timedelta(days=1)) and d.status == ContractStatus.EXPIRED

    r = contract()
    r.launch(T0)
    party = Party(contract_id=r.id, role="worker", name="王五")
    r.decline(party, "薪资不符", T0)
    assert r.status == ContractStatus.REJECTED and party.status == PartyStatus.DECLINED
    with pytest.raises(WrongState):
        r.require_withdrawn()


def test_names_and_deadlines() -> None:
    with pytest.raises(Invalid):
        validate_contract_name("")
    with pytest.raises(Invalid):
        validate_contract_name("合" * 51)
    assert validate_contract_name(" 劳动合同 ") == "劳动合同"
    with pytest.raises(Invalid):
        contract(sign_deadline=T0).launch(T0)


def test_audit_chain_detects_changes() -> None:
    events = []
    prev = None
    for kind in ("created", "launched", "viewed", "signed"):
        prev = chain_event(
            prev, contract_id="c", kind=kind, at=T0, actor_type="system", actor_id=None, actor_name="平台",
            ip="", user_agent="", method=None, document_sha256="h", details={"n": kind},
        )  # fmt: skip
        events.append(prev)
    assert verify_chain(events) == (True, None)
    assert verify_chain(events[:1] + events[2:]) == (False, 2)  # removed
    tampered = [replace(e) for e in events]
    tampered[2].ip = "10.0.0.9"
    assert verify_chain(tampered) == (False, 3)  # altered
