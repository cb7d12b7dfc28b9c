"""Signing: a party submits (seal or handwritten signature, its fields), proves intent by an SMS
code or by a face check at the identity provider, and the platform applies one PAdES
signature per contract, each in a transaction guarded by the contract's version.

A face-verified session is applied as soon as the provider's result arrives (in the
background, the answer to the provider does not wait for the PDF work); the signer's page,
`confirm` and the resume job all go through the same claim, so a session is applied once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from ..accounts import Permission, SmsPurpose, User
from ..clock import china_time
from ..contracts import Contract, Party, PartyRole, PartyStatus, display_value
from ..controls import ControlKind
from ..errors import Conflict, DomainError, Invalid, NotFound, WrongState
from ..events import ContractCompleted, PartySigned, contract_facts
from ..identity_rules import IdType
from ..pdf.stamps import Stamp
from ..ports import Deps, UnitOfWork
from ..roster import Employee
from ..signing import (
    APPLY_LEASE,
    SIGNING_SESSION_TTL,
    IntentMethod,
    IntentStatus,
    Seal,
    SessionStatus,
    SigningSession,
)
from ..values import mask_phone
from ..verification import RedirectResult, require_enterprise_verified
from .accounts import Actor, request_sms_code, require_sms_code
from .contracts.audit import Context, audit_entry, audited
from .contracts.controls import collect_values, slot_name
from .contracts.launch import LAUNCH_CONCURRENCY, ask_worker_to_sign, id_list, sign_link
from .contracts.queries import NOT_FOUND, enterprise_contract, load_user, worker_contract
from .limits import Asker, spend_now
from .verification import VerificationDeps, VerifiedPerson, verified_identity

log = logging.getLogger("laborsign.signing")

INTENT_RESULT_CTX = "signing_sessions.intent_result"
CONTRACT_CHANGED = "合同已被其他操作更新，请刷新后重试"


def _intent_method(raw: object) -> IntentMethod:
    try:
        return IntentMethod(str(raw or IntentMethod.SMS))
    except ValueError:
        raise Invalid.field(
            "intent_method", "意愿认证方式应为 sms（短信验证码）或 face（人脸识别）"
        ) from None


async def _begin_intent(deps: VerificationDeps, session: SigningSession, user: User) -> None:
    """Before the session is stored (so a refusal leaves none behind): the SMS code is sent to
    the signer, or a face check is opened with the provider for the signer's verified identity
    (refused when there is none the provider can check)."""
    if session.intent_method == IntentMethod.SMS:
        await request_sms_code(deps, session.phone, SmsPurpose.INTENT, Asker(person=user.id))
        return
    person = await verified_identity(deps, user.id)
    if person is None or person.id_type != IdType.RESIDENT_ID:
        raise WrongState(
            "人脸识别仅适用于已用居民身份证完成实名认证的签署人，请使用短信验证码", "face_unavailable"
        )
    await spend_now(deps, deps.limits.verifications_per_user, user.id)  # a face check is paid for
    start = await deps.identity.face_start(
        session.id, person.name, person.id_number, f"/h5/intent/{session.id}"
    )
    session.redirected(start.url, start.ref)


IDENTITY_MISMATCH = "identity_mismatch"


def identity_mismatch(deps: Deps, person: VerifiedPerson | None, employee: Employee | None) -> str:
    """Why the verified identity of a signing account is not the contract's employee ("" when
    it is). The roster's number is compared by its keyed hash, never decrypted into a query."""
    import hmac

    if person is None:
        return "签署账号没有实名认证记录"
    if employee is None:
        return "花名册中没有该合同的员工"
    if person.name.strip() != employee.name.strip():
        return "实名认证姓名与花名册姓名不一致"
    if not employee.id_number_hash:
        return "花名册中没有该员工的证件号码"
    index = deps.cipher.blind_index(person.id_number, "id_number")
    if not hmac.compare_digest(index, employee.id_number_hash):
        return "实名认证证件号码与花名册不一致"
    return ""


async def check_signer_is_employee(deps: Deps, contract: Contract, user: User, ctx: Context) -> None:
    """Before a worker's signature: the person who proved who they are must be the employee the
    contract names. Otherwise nothing is signed, the refusal goes into the contract's audit
    trail (HR sees why in the contract), and the signer gets 409 identity_mismatch."""
    person = await verified_identity(deps, user.id)
    async with deps.uow() as uow:
        employee = await uow.get(Employee, contract.employee_id)
        reason = identity_mismatch(deps, person, employee)
        if not reason:
            return
        stored = await uow.get_or_404(Contract, contract.id, NOT_FOUND)
        uow.record(audited(
            stored, IDENTITY_MISMATCH, deps.clock.now(), ctx, actor_type="worker", actor_id=user.id,
            actor_name=person.name if person else (user.name or ""), reason=reason,
            verified_name=person.name if person else None,
            verified_id_masked=person.id_number_masked if person else None,
            roster_name=employee.name if employee else None,
            roster_id_masked=employee.id_number_masked if employee else None,
        ))  # fmt: skip
        await uow.commit()
    raise WrongState(
        f"您的实名认证信息与合同中的劳动者不一致（{reason}），不能签署。请联系用人单位核对花名册信息。",
        IDENTITY_MISMATCH,
        reason=reason,
    )


async def start_enterprise_signing(
    deps: VerificationDeps,
    actor: Actor,
    *,
    contract_ids: object,
    seal_id: object,
    fields: object,
    intent_method: object,
    ctx: Context,
) -> SigningSession:
    """Single and batch signing: one intent verification for every listed contract."""
    enterprise = actor.require(Permission.CONTRACTS)
    require_enterprise_verified(enterprise)
    user = actor.require_user()
    if await verified_identity(deps, user.id) is None:
        raise WrongState(
            "签署人需先完成个人实名认证：证书和出证报告中记载经办人的实名姓名", "operator_not_verified"
        )
    method = _intent_method(intent_method)
    ids = id_list(contract_ids, "contract_ids", "请选择要签署的合同")
    per_contract = fields if isinstance(fields, dict) else {}
    now = deps.clock.now()
    async with deps.uow() as uow:
        seal = await uow.get(Seal, str(seal_id or ""))
        if seal is None or seal.enterprise_id != enterprise.id:
            raise Invalid.field("seal_id", "请选择本企业的印章")
        clean: dict[str, dict[str, str]] = {}
        for cid in ids:
            contract = await enterprise_contract(uow, actor, cid)
            contract.require_signing()
            parties = (await uow.contracts.parties_of([cid]))[cid]
            mine = next(p for p in parties if p.role == PartyRole.ENTERPRISE)
            if mine.status != PartyStatus.PENDING:
                raise WrongState(
                    f"《{contract.name}》（{contract.worker_name}）企业方已签署", "already_signed"
                )
            contract.require_turn(PartyRole.ENTERPRISE, parties)
            try:
                clean[cid] = collect_values(contract.controls, "enterprise", per_contract.get(cid))
            except Invalid as exc:
                raise Invalid(
                    f"《{contract.name}》：{exc.message}", {f"{cid}.{k}": v for k, v in exc.fields.items()}
                ) from None
    session = SigningSession(
        party_role="enterprise", user_id=user.id, phone=user.phone, contract_ids=ids, intent_method=method,
        created_at=now, expires_at=now + SIGNING_SESSION_TTL, enterprise_id=enterprise.id, seal_id=seal.id,
        fields=clean, ip=ctx.ip[:64], user_agent=ctx.user_agent[:300],
    )  # fmt: skip
    await _begin_intent(deps, session, user)
    async with deps.uow() as uow:
        uow.add(session)
        await uow.commit()
    return session


async def start_worker_signing(
    deps: VerificationDeps,
    actor: Actor,
    contract_id: str,
    *,
    signature_png: object,
    fields: object,
    save_signature: object,
    use_saved: object = False,
    intent_method: object = None,
    ctx: Context,
) -> SigningSession:
    user = actor.require_user()
    method = _intent_method(intent_method)
    now = deps.clock.now()
    async with deps.uow() as uow:
        contract = await worker_contract(uow, actor, contract_id)
        contract.require_signing()
        if not user.verified:
            raise WrongState("请先完成个人实名认证，再签署合同", "person_not_verified")
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
        mine = next(p for p in parties if p.role == PartyRole.WORKER)
        if mine.status != PartyStatus.PENDING:
            raise WrongState("您已签署该合同", "already_signed")
        contract.require_turn(PartyRole.WORKER, parties)
        values = collect_values(contract.controls, "worker", fields)
        saved = await uow.contracts.saved_signature(user.id)
    await check_signer_is_employee(deps, contract, user, ctx)
    if use_saved is True:
        if saved is None:
            raise Invalid.field("signature_png", "您还没有保存过签名，请手写签名")
        blob = saved
    else:
        from ..pdf.seals import decode_data_url, normalise_signature_png

        png = normalise_signature_png(decode_data_url(signature_png))
        blob = await deps.blobs.put(png)
    session = SigningSession(
        party_role="worker", user_id=user.id, phone=user.phone, contract_ids=[contract.id], intent_method=method,
        created_at=now, expires_at=now + SIGNING_SESSION_TTL, signature_blob=blob, fields={contract.id: values},
        ip=ctx.ip[:64], user_agent=ctx.user_agent[:300],
    )  # fmt: skip
    await _begin_intent(deps, session, user)
    async with deps.uow() as uow:
        if save_signature is True:
            await uow.contracts.save_signature(user.id, blob, now)
        uow.add(session)
        await uow.commit()
    return session


async def saved_signature(deps: Deps, actor: Actor) -> bytes:
    """The signature the worker chose to keep for reuse (PNG)."""
    user = actor.require_user()
    async with deps.uow() as uow:
        blob = await uow.contracts.saved_signature(user.id)
    if blob is None:
        raise NotFound("您还没有保存过签名", "no_saved_signature")
    return await deps.blobs.get(blob)


async def forget_saved_signature(deps: Deps, actor: Actor) -> None:
    """Deletes the kept signature; signatures already in contracts are not affected."""
    user = actor.require_user()
    async with deps.uow() as uow:
        if not await uow.contracts.forget_signature(user.id):
            raise NotFound("您还没有保存过签名", "no_saved_signature")
        await uow.commit()


async def get_session(deps: Deps, actor: Actor, session_id: str) -> SigningSession:
    """The signer's own session (anyone else's is 404)."""
    user = actor.require_user()
    async with deps.uow() as uow:
        session = await uow.get(SigningSession, session_id)
    if session is None or session.user_id != user.id:
        raise NotFound("签署会话不存在", "session_not_found")
    return session


async def public_session(deps: Deps, session_id: str) -> SigningSession | None:
    """For the page the face provider sends the signer back to (often a phone with no login):
    the caller shows only the state, never the contracts."""
    async with deps.uow() as uow:
        return await uow.get(SigningSession, session_id)


async def resend_intent_code(deps: Deps, actor: Actor, session_id: str) -> tuple[int, int]:
    """A new SMS code for an open SMS session (the first one lost or used up by typos): sent
    to the signer's phone under the usual per-phone rules (429 within a minute of the last)."""
    session = await get_session(deps, actor, session_id)
    session.check_open(deps.clock.now())
    if session.intent_method != IntentMethod.SMS:
        raise WrongState("该签署使用人脸识别，无需验证码", "not_sms")
    return await request_sms_code(deps, session.phone, SmsPurpose.INTENT, Asker(person=session.user_id))


async def confirm_signing(
    deps: Deps, actor: Actor, session_id: str, code: object, ctx: Context
) -> dict[str, list[Any]]:
    """SMS: checks the code. Face: the provider's result must have arrived and passed (the
    signatures are normally applied already by then; this is the signer's explicit retry)."""
    session = await get_session(deps, actor, session_id)
    now = deps.clock.now()
    if session.status == SessionStatus.CONFIRMING:
        return await _finish_abandoned(deps, session, ctx, now)
    session.check_open(now)
    if session.intent_method == IntentMethod.FACE:
        session.require_face_passed()
    else:
        # A code confirms the signing it was sent for: not one started before it.
        async with deps.uow() as uow:
            latest = await uow.contracts.latest_session(session.user_id, IntentMethod.SMS)
        if latest is not None and latest.id != session.id:
            raise WrongState("您已提交了新的签署，本次签署已失效，请在最新的签署中确认", "session_superseded")
        await require_sms_code(deps, session.phone, SmsPurpose.INTENT, code, session.created_at)
    result = await _apply(deps, session, ctx)
    if result is None:
        raise WrongState("该签署已确认过，请勿重复提交", "session_used")
    return result


async def _finish_abandoned(
    deps: Deps, session: SigningSession, ctx: Context, now: datetime
) -> dict[str, list[Any]]:
    """Confirming again a session whose confirmation was cut short (its process stopped):
    the intent was verified then, so what is left is signed now — unless a live process is
    still at it."""
    if not session.abandoned(now):
        wait = (session.applying_until or now) - now
        raise WrongState(
            "签署正在进行中，请稍后刷新查看结果", "session_in_progress",
            retry_after=max(1, int(wait.total_seconds()) + 1),
        )  # fmt: skip
    result = await _apply(deps, session, ctx, take_over=True)
    if result is None:
        raise WrongState("签署正在进行中，请稍后刷新查看结果", "session_in_progress", retry_after=1)
    return result


async def face_intent_result(deps: Deps, result: RedirectResult) -> SigningSession | None:
    """The provider's result for a face check opened by a signing session (None when the
    reference is not one of ours). A pass starts applying the signatures."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        session = await uow.contracts.session_by_intent_ref(result.ref)
        if session is None:
            return None
        recorded = session.face_result(result.passed, result.reason, now)
        if recorded:
            session.intent_result_enc = deps.cipher.encrypt(
                json.dumps({"passed": result.passed, "reason": result.reason, **result.detail},
                           ensure_ascii=False, sort_keys=True, default=str),
                INTENT_RESULT_CTX,
            )  # fmt: skip
            if session.intent_status == IntentStatus.FAILED:
                await _record_failed_intent(uow, session, now)
        await uow.commit()
    if recorded and session.intent_status == IntentStatus.PASSED:
        deps.spawn(_apply_logged(deps, session), f"signing-{session.id}")
    return session


async def _record_failed_intent(uow: UnitOfWork, session: SigningSession, now: datetime) -> None:
    """A failed face check is part of each contract's audit trail (who tried, when, why)."""
    user = await uow.get_or_404(User, session.user_id)
    ctx = Context(session.ip, session.user_agent)
    for cid in session.contract_ids:
        contract = await uow.get(Contract, cid)
        if contract is None:
            continue
        worker = session.party_role == "worker"
        uow.record(audited(
            contract, "intent_failed", now, ctx, actor_type="worker" if worker else "enterprise",
            actor_id=user.id, actor_name=contract.worker_name if worker else (user.name or ""),
            method=session.intent_method, provider_ref=session.intent_ref, reason=session.intent_reason,
        ))  # fmt: skip


async def resume_signing(deps: Deps, limit: int = 50) -> int:
    """Sessions a stopped process never finished: face-verified ones never applied, and any
    left half applied (its lease ran out). Safe with several processes: each is claimed
    once; contracts the session already signed are skipped, so nothing is signed twice."""
    async with deps.uow() as uow:
        sessions = await uow.contracts.sessions_to_resume(deps.clock.now(), limit)
    applied = 0
    for session in sessions:
        if await _apply_logged(deps, session, take_over=session.status == SessionStatus.CONFIRMING):
            applied += 1
    return applied


async def _apply_logged(deps: Deps, session: SigningSession, *, take_over: bool = False) -> bool:
    """Applies a session in the background with the signer's own IP and device from
    submission."""
    try:
        ctx = Context(session.ip, session.user_agent)
        return await _apply(deps, session, ctx, take_over=take_over) is not None
    except Exception:
        log.exception("applying a signing session failed", extra={"session": session.id})
        return False


async def _apply(
    deps: Deps, session: SigningSession, ctx: Context, *, take_over: bool = False
) -> dict[str, list[Any]] | None:
    """Claims the session (None when another confirmation or process has it) and signs every
    contract not signed by it yet, a few at a time so both worker processes stay busy. The
    claim is a lease renewed while the work goes on: if this process dies, the session is
    finished by whoever confirms it again or by the resume job once the lease runs out."""
    now = deps.clock.now()
    try:
        async with deps.uow() as uow:
            stored = await uow.get(SigningSession, session.id)
            if stored is None or not stored.claim(now, now + APPLY_LEASE, take_over):
                return None
            await uow.commit()
    except Conflict:
        return None  # claimed by another confirmation or process a moment ago
    gate = asyncio.Semaphore(LAUNCH_CONCURRENCY)
    errors: dict[str, DomainError] = {}

    async def one(cid: str) -> None:
        async with gate:
            try:
                await _sign_one(deps, session, cid, ctx)
            except (WrongState, Invalid, NotFound) as exc:
                if not await _signed_by_session(deps, session, cid):  # another applier won the race
                    errors[cid] = exc

    lease = asyncio.create_task(_hold_lease(deps, session.id))
    try:
        await asyncio.gather(*(one(cid) for cid in session.contract_ids))
    except asyncio.CancelledError:
        # Stopped half-way (the process is shutting down): the lease ends now, so the resume
        # job of this or another process signs what is left at once.
        await _stop(lease)
        await asyncio.shield(_release(deps, session.id))
        raise
    finally:
        await _stop(lease)  # no renewal races the session's last write
    signed = [cid for cid in session.contract_ids if cid not in errors]
    failed = [{"id": cid, "error": e.code, "message": e.message} for cid, e in errors.items()]
    async with deps.uow() as uow:
        stored = await uow.get_or_404(SigningSession, session.id)
        stored.finish(signed, failed, now)
        await uow.commit()
    return {"signed": signed, "failed": failed}


async def _move_lease(deps: Deps, session_id: str, until: datetime) -> None:
    async with deps.uow() as uow:
        stored = await uow.get(SigningSession, session_id)
        if stored is not None and stored.renew(until):
            await uow.commit()


async def _hold_lease(deps: Deps, session_id: str) -> None:
    while True:
        await asyncio.sleep(APPLY_LEASE.total_seconds() / 3)
        try:
            await _move_lease(deps, session_id, deps.clock.now() + APPLY_LEASE)
        except Exception:  # a missed renewal is retried; the work goes on
            log.warning("could not renew a signing lease", extra={"session": session_id})


async def _signed_by_session(deps: Deps, session: SigningSession, contract_id: str) -> bool:
    async with deps.uow() as uow:
        parties = (await uow.contracts.parties_of([contract_id])).get(contract_id, [])
    party = next((p for p in parties if p.role == session.party_role), None)
    return party is not None and _signed_by(party, session)


def _signed_by(party: Party, session: SigningSession) -> bool:
    return (
        party.status == PartyStatus.SIGNED
        and party.user_id == session.user_id
        and party.signed_at is not None
        and party.signed_at >= session.created_at
    )


async def _stop(lease: asyncio.Task[None]) -> None:
    lease.cancel()
    await asyncio.gather(lease, return_exceptions=True)


async def _release(deps: Deps, session_id: str) -> None:
    try:
        await _move_lease(deps, session_id, deps.clock.now())
    except Conflict:
        pass  # taken over meanwhile: the lease is someone else's now


def _marks(contract: Contract, role: str, values: dict[str, str], image: bytes, today: str) -> list[Stamp]:
    area_kind = ControlKind.SIGNATURE if role == PartyRole.WORKER else ControlKind.SEAL
    stamps = []
    for i, c in enumerate(contract.controls):
        if c.filled_by != role:
            continue
        slot = slot_name(i)
        if c.kind == area_kind:
            stamps.append(Stamp(*c.box, image_png=image, slot=slot))
        elif c.kind == ControlKind.SIGN_DATE:
            stamps.append(Stamp(*c.box, text=display_value(c, today), slot=slot))
        elif c.key in values:
            stamps.append(Stamp(*c.box, text=display_value(c, values[c.key]), slot=slot))
    return stamps


async def _sign_one(deps: Deps, session: SigningSession, contract_id: str, ctx: Context) -> None:
    from ..pdf.pades import SignSpec

    role = session.party_role
    async with deps.uow() as uow:
        contract = await uow.get_or_404(Contract, contract_id, NOT_FOUND)
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
        party = next(p for p in parties if p.role == role)
        if _signed_by(party, session):
            return  # this session got there before it was interrupted (it may be completed now)
        contract.require_signing()
        if party.status != PartyStatus.PENDING:
            raise WrongState("该签署方已签署", "already_signed")
        version = contract.version
        if role == "enterprise":
            seal = await uow.get_or_404(Seal, str(session.seal_id), "印章不存在")
            image_blob = seal.blob
        else:
            image_blob = str(session.signature_blob)
    user = await load_user(deps, session.user_id)
    image = await deps.blobs.get(image_blob)
    current = await deps.blobs.get(contract.document_blob)
    today = china_time(deps.clock.now()).date().isoformat()
    values = session.fields.get(contract.id, {})
    person = await verified_identity(deps, user.id)
    if role == "worker":
        # The certificate names the person who proved who they are, and only when that is the
        # contract's employee (checked again here: the roster may have changed since submit).
        await check_signer_is_employee(deps, contract, user, ctx)
        assert person is not None
        spec = SignSpec(
            person.name, person.id_number_masked, "person", f"worker_{contract.version + 1}", "劳动者签署劳动合同",
            stamps=_marks(contract, role, values, image, today),
        )  # fmt: skip
    else:
        ep = contract.enterprise_party
        operator = person.name if person is not None else str(ep["operator_name"])
        spec = SignSpec(
            ep["name"], ep["credit_code"], "organisation", f"enterprise_{contract.version + 1}",
            f"用人单位签署（经办人：{operator}）", stamps=_marks(contract, role, values, image, today),
            unit=f"用人单位 经办人 {operator}",
        )  # fmt: skip
    signed_pdf = await deps.pdf.sign(current, spec)
    blob = await deps.blobs.put(signed_pdf)
    sha = hashlib.sha256(signed_pdf).hexdigest()
    now = deps.clock.now()
    async with deps.uow() as uow:
        stored = await uow.get_or_404(Contract, contract.id, NOT_FOUND)
        if stored.version != version:  # changed while the PDF was signed
            raise Conflict(CONTRACT_CHANGED)
        # Changed from here to the commit: the mapper's version check fails it (Conflict).
        stored_parties = (await uow.contracts.parties_of([stored.id]))[stored.id]
        mine = next(p for p in stored_parties if p.role == role)
        stored.values = {**stored.values, **values}
        completed = stored.record_signature(
            mine,
            stored_parties,
            user_id=user.id,
            method=session.intent_method,
            new_blob=blob,
            new_sha256=sha,
            now=now,
        )
        actor_type, actor_name = (
            ("worker", stored.worker_name) if role == "worker" else ("enterprise", user.name or "")
        )
        proof: dict[str, Any] = (
            {"phone": mask_phone(session.phone)}
            if session.intent_method == IntentMethod.SMS
            else {"provider_ref": session.intent_ref}
        )
        uow.record(audited(
            stored, "intent_verified", now, ctx, actor_type=actor_type, actor_id=user.id, actor_name=actor_name,
            method=session.intent_method, **proof,
        ))  # fmt: skip
        if values:
            uow.record(audited(
                stored, "filled", now, ctx, actor_type=actor_type, actor_id=user.id, actor_name=actor_name,
                fields=sorted(values),
            ))  # fmt: skip
        signed = audit_entry(
            stored, "signed", ctx, actor_type=actor_type, actor_id=user.id, actor_name=actor_name,
            method=session.intent_method, party=role, signature_field=spec.field_name,
        )  # fmt: skip
        uow.record(PartySigned(at=now, party=role, audit=signed, **contract_facts(stored)))
        if not completed and role == "enterprise" and stored.first_signer() == PartyRole.ENTERPRISE:
            uow.record(ask_worker_to_sign(deps, stored, now))  # the worker's turn begins now
        if completed:
            entry = audit_entry(
                stored, "completed", ctx, actor_type="system", actor_id=None, actor_name="平台"
            )
            uow.record(ContractCompleted(
                at=now, document_sha256=stored.document_sha256, link=sign_link(deps, stored), audit=entry,
                **contract_facts(stored),
            ))  # fmt: skip
        await uow.commit()
