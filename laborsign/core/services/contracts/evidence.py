"""出证报告: the evidence report of a contract, signed and timestamped by the platform."""

from __future__ import annotations

from ...contracts import CONTRACT_STATUS_LABELS, Contract, ContractStatus, Party
from ...ports import Deps
from ...signing import INTENT_METHOD_LABELS
from ...values import mask_phone
from ...verification import PERSON_METHOD_LABELS, PersonMethod
from ..accounts import Actor
from .queries import get_contract


async def evidence_report(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, bytes]:
    """出证报告, signed and timestamped by the platform so it cannot be altered unnoticed."""
    from ...contracts import EVENT_LABELS, verify_chain
    from ...pdf.evidence import EvidenceData, EvidenceEvent, EvidenceParty
    from ...pdf.pades import SignSpec

    contract, parties, _ = await get_contract(deps, actor, contract_id)
    async with deps.uow() as uow:
        events = await uow.contracts.events_of(contract.id)
        signers = {p.user_id: await uow.verification.identity_of(p.user_id) for p in parties if p.user_id}
    intact, first_bad = verify_chain(events)
    ident = await worker_ident(deps, contract)

    def who(p: Party) -> tuple[str, str, str]:
        """(name, masked ident, how verified) as the signature's certificate has them."""
        person = signers.get(p.user_id) if p.user_id and p.status == "signed" else None
        if p.role == "worker":
            if person is None:
                return p.name, ident, "未签署" if p.status != "signed" else "实名认证"
            method = PERSON_METHOD_LABELS.get(PersonMethod(person.method), person.method)
            return person.name, person.id_number_masked, method
        operator = (
            f"；经办人：{person.name}（已实名 {person.id_number_masked}）" if person is not None else ""
        )
        return p.name, contract.enterprise_party["credit_code"], "企业实名认证" + operator

    methods: dict[str, str] = {str(k): v for k, v in INTENT_METHOD_LABELS.items()}
    data = EvidenceData(
        contract_id=contract.id,
        contract_name=contract.name,
        original_sha256=contract.original_sha256,
        final_sha256=contract.document_sha256,
        enterprise_name=contract.enterprise_party["name"],
        status=status_label(contract.status),
        generated_at=deps.clock.now(),
        parties=[
            EvidenceParty(
                role="劳动者" if p.role == "worker" else "用人单位",
                name=who(p)[0],
                ident_masked=who(p)[1],
                verification=who(p)[2],
                intent=methods.get(p.verification_method or "", p.verification_method or ""),
                signed_at=p.signed_at,
            )
            for p in parties
        ],
        events=[
            EvidenceEvent(
                at=e.at, actor=e.actor_name, action=EVENT_LABELS.get(e.kind, e.kind), ip=e.ip,
                user_agent=e.user_agent, method=methods.get(e.method or "", e.method or ""),
                document_sha256=e.document_sha256, chain_hash=e.hash,
            )
            for e in events
        ],
        notes=[
            "审计记录哈希链完整，未被删除或篡改。" if intact else f"审计记录哈希链在第{first_bad}条处断开：记录被删除或篡改。",
        ],
    )  # fmt: skip
    pdf = await deps.pdf.evidence(data)
    signed = await deps.pdf.sign(
        pdf, SignSpec("LaborSign 电子劳动合同平台", "平台出证", "organisation", "platform", "平台出证")
    )
    return contract, signed


async def worker_ident(deps: Deps, contract: Contract) -> str:
    """The masked ID for the worker's certificate (never the full number)."""
    async with deps.uow() as uow:
        cards = await uow.workers.cards(deps, contract.enterprise_id, [contract.employee_id])
    card = cards.get(contract.employee_id)
    if card is not None and card.id_number:
        from ...identity_rules import mask_id_number

        return mask_id_number(card.id_number)
    return mask_phone(contract.worker_phone)


def status_label(status: str) -> str:
    return CONTRACT_STATUS_LABELS.get(ContractStatus(status), status)
