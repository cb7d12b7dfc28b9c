"""PAdES signatures: each party's act becomes one incremental update holding a visible (or
invisible) signature field, a CAdES-detached signature (ETSI.CAdES.detached) by the
certificate issued for that act, an RFC 3161 timestamp token on the signature, and the
chain plus CRLs in the document security store (PAdES B-LT), so the file validates offline
in pyHanko, poppler's pdfsig and Adobe Reader with the platform root trusted.

Where the speed comes from (profiled and measured in bench/pdf_sign.py; ~25x stock pyHanko):
- the CMS container and the platform TSA's tokens are assembled from DER pieces (fastcms.py):
  asn1crypto re-encoding constructed structures was ~90% of a stock signature;
- parsed private keys are cached per process (pyHanko's SimpleSigner re-parses the PKCS#8
  key on every raw signature, twice per PDF signature);
- the DSS is written from the CRLs and certificates we already hold, instead of letting
  pyHanko validate the chain before signing (path building, CRL checks, and a dummy
  timestamp request to the TSA), and de-duplicated by comparing bytes;
- seal/signature images are decoded and deflated once per process, not per signature.

`sign_pdf` is a pure function (bytes and picklable dataclasses in, bytes out) meant to run in
a worker process, see `workers.PdfWorkers`."""

from __future__ import annotations

import asyncio
import hashlib
import io
import urllib.error
import urllib.request
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from asn1crypto import algos, cms, core, keys, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import PdfContent, ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import as_signing_certificate, get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..clock import china_text
from ..errors import Invalid, Unavailable
from . import fastcms
from ._runner import run_sync
from .ca import HttpTsa, PlatformTsa, SignerCredentials, Timestamper
from .geometry import Box, page_rect, page_rotation, place
from .imagecache import encode_png
from .stamps import Stamp, stamp_into

# A private policy OID for the platform's time-stamping unit, under the UUID arc (X.667),
# so no registration is needed and it cannot collide with a real TSA's policy.
TSA_POLICY = f"2.25.{uuid.UUID('6c1b1b0e-6a39-4d7a-9b8f-3f1e5b2d9c41').int}"
MAX_SIGN_BYTES = 50 * 1024 * 1024


class TsaFailure(Exception):
    """Raised inside pyHanko's pipeline; turned into `Unavailable` at the boundary."""


# -- per-process caches ---------------------------------------------------------------------


@lru_cache(maxsize=256)
def _private_key(key_der: bytes) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(key_der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("only EC and RSA signer keys are supported")
    return key


@lru_cache(maxsize=512)
def _asn1_cert(der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der)


@lru_cache(maxsize=64)
def _asn1_crl(der: bytes) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(der)


def _raw_sign(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, data: bytes, md: str) -> bytes:
    algorithm = get_pyca_cryptography_hash(md)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm))
    return key.sign(data, padding.PKCS1v15(), algorithm)


class CachedKeySigner(signers.SimpleSigner):
    """SimpleSigner that signs with an already-parsed `cryptography` key."""

    def __init__(self, credentials: SignerCredentials) -> None:
        chain = [_asn1_cert(der) for der in credentials.chain_der]
        super().__init__(
            signing_cert=_asn1_cert(credentials.cert_der),
            signing_key=keys.PrivateKeyInfo.load(credentials.key_der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
        self._key = _private_key(credentials.key_der)
        self._info = fastcms.CertInfo.of(credentials.cert_der)
        self._chain = list(credentials.chain_der)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return _raw_sign(self._key, data, digest_algorithm)

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: timestamps.TimeStamper | None = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        """The PAdES container from DER pieces (fastcms); anything unusual goes to pyHanko."""
        settings = signed_attr_settings
        if (
            digest_algorithm.lower() != "sha256"
            or not use_pades
            or encap_content_info is not None
            or (settings is not None and (settings.cades_signed_attrs or settings.adobe_revinfo_attr))
        ):
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        signed_attrs = fastcms.pades_signed_attrs(data_digest, self._info)
        signature = fastcms.raw_sign(self._key, signed_attrs)
        token: bytes | None = None
        if timestamper is not None:
            if dry_run:
                token = (await timestamper.async_dummy_response("sha256")).dump()
            else:
                imprint = hashlib.sha256(signature).digest()
                token = (await timestamper.async_timestamp(imprint, "sha256")).dump()
        der = fastcms.pades_signature(
            signed_attrs=signed_attrs,
            signature=signature,
            signer=self._info,
            chain=self._chain,
            timestamp_token=token,
        )
        return cms.ContentInfo.load(der)


class StockSigner(signers.SimpleSigner):
    """pyHanko used as documented (key re-parsed on every raw signature): the baseline in
    bench/pdf_sign.py."""

    def __init__(self, credentials: SignerCredentials) -> None:
        super().__init__(
            signing_cert=_asn1_cert(credentials.cert_der),
            signing_key=keys.PrivateKeyInfo.load(credentials.key_der),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(d) for d in credentials.chain_der]),
        )


_SIGNERS: OrderedDict[bytes, CachedKeySigner] = OrderedDict()


def _signer(credentials: SignerCredentials) -> CachedKeySigner:
    """Reused for repeat signers (the platform, an enterprise signing a batch)."""
    signer = _SIGNERS.get(credentials.cert_der)
    if signer is None:
        signer = CachedKeySigner(credentials)
        _SIGNERS[credentials.cert_der] = signer
        if len(_SIGNERS) > 64:
            _SIGNERS.popitem(last=False)
    else:
        _SIGNERS.move_to_end(credentials.cert_der)
    return signer


# -- time stamping --------------------------------------------------------------------------


class _FailureWrapping(timestamps.TimeStamper):
    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            token = await super().async_timestamp(message_digest, md_algorithm)
        except Exception as exc:
            raise TsaFailure(str(exc)) from exc
        # A parsed token dumps its cached bytes; a constructed one is re-encoded on every dump.
        return cms.ContentInfo.load(token.dump())


class PlatformTimeStamper(timestamps.TimeStamper):
    """The platform's time-stamping unit, in process: real RFC 3161 tokens (a TSTInfo signed
    by the TSU certificate, whose EKU is timeStamping), the platform clock as time source."""

    def __init__(self, spec: PlatformTsa) -> None:
        super().__init__(include_nonce=False)
        self._info = fastcms.CertInfo.of(spec.cert_der)
        self._chain = list(spec.chain_der)
        self._key = _private_key(spec.key_der)

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        if md_algorithm.lower() != "sha256":
            raise TsaFailure(f"unsupported digest {md_algorithm}")
        try:
            der = fastcms.timestamp_token(
                imprint=message_digest, tsa=self._info, key=self._key, chain=self._chain, policy=TSA_POLICY
            )
        except Exception as exc:
            raise TsaFailure(str(exc)) from exc
        return cms.ContentInfo.load(der)


class StockPlatformTimeStamper(_FailureWrapping, DummyTimeStamper):
    """The same unit through pyHanko's DummyTimeStamper (EC-capable): the baseline in
    bench/pdf_sign.py."""

    def __init__(self, spec: PlatformTsa) -> None:
        chain = [_asn1_cert(der) for der in spec.chain_der]
        super().__init__(
            tsa_cert=_asn1_cert(spec.cert_der),
            tsa_key=keys.PrivateKeyInfo.load(spec.key_der),
            certs_to_embed=SimpleCertificateStore.from_certs(chain),
        )
        self._key = _private_key(spec.key_der)

    def _build_tst_info(
        self, message_imprint: tsp.MessageImprint, dt: datetime, req: tsp.TimeStampReq
    ) -> tsp.TSTInfo:
        info = super()._build_tst_info(message_imprint, dt, req)
        info["policy"] = tsp.ObjectIdentifier(TSA_POLICY)
        info["accuracy"] = tsp.Accuracy({"seconds": 1})
        return info

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        return _raw_sign(self._key, signed_attrs.dump(), md_algorithm), signed_attrs

    def _build_signed_data(
        self, tst_info_data: bytes, md_algorithm: str, signature: bytes, signed_attrs: cms.CMSAttributes
    ) -> dict[str, Any]:
        data: dict[str, Any] = super()._build_signed_data(
            tst_info_data, md_algorithm, signature, signed_attrs
        )
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            # The parent hard-codes RSA PKCS#1 v1.5.
            for info in data["signer_infos"]:
                info["signature_algorithm"] = algos.SignedDigestAlgorithm(
                    {"algorithm": f"{md_algorithm}_ecdsa"}
                )
        return data


class HttpTimeStamper(_FailureWrapping):
    """RFC 3161 over HTTP with the standard library: runs in a worker process, so a blocking
    call in a thread is simpler than an aiohttp session tied to a short-lived loop."""

    def __init__(self, spec: HttpTsa) -> None:
        super().__init__(include_nonce=True)
        self.spec = spec

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return await asyncio.to_thread(self._post, req.dump())

    def _post(self, body: bytes) -> tsp.TimeStampResp:
        request = urllib.request.Request(
            self.spec.url,
            data=body,
            headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.spec.timeout) as response:
                if response.status != 200:
                    raise TsaFailure(f"TSA answered HTTP {response.status}")
                payload = response.read(1024 * 1024)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TsaFailure(f"TSA unreachable: {exc}") from exc
        try:
            return tsp.TimeStampResp.load(payload)
        except ValueError as exc:
            raise TsaFailure("TSA answered something that is not a timestamp response") from exc


@lru_cache(maxsize=8)
def timestamper_for(spec: Timestamper) -> timestamps.TimeStamper:
    """Cached per process: pyHanko sizes the signature with a dummy token it fetches once per
    time stamper object and digest algorithm."""
    if isinstance(spec, PlatformTsa):
        return PlatformTimeStamper(spec)
    return HttpTimeStamper(spec)


# -- appearance -----------------------------------------------------------------------------


class _ImageContent(PdfContent):
    """A PNG as PDF content, from the per-process encoded cache."""

    def __init__(self, png: bytes, rotation: int = 0) -> None:
        self.encoded = encode_png(png, "appearance_png")
        self.rotation = rotation
        w, h = self.encoded.width, self.encoded.height
        super().__init__(box=layout.BoxConstraints(*((h, w) if rotation in (90, 270) else (w, h))))

    def render(self) -> bytes:
        writer = self.writer
        assert writer is not None
        enc = self.encoded

        def image_stream(data: bytes, colour: str) -> generic.StreamObject:
            return generic.StreamObject(
                {
                    pdf_name("/Type"): pdf_name("/XObject"),
                    pdf_name("/Subtype"): pdf_name("/Image"),
                    pdf_name("/Width"): generic.NumberObject(enc.width),
                    pdf_name("/Height"): generic.NumberObject(enc.height),
                    pdf_name("/ColorSpace"): pdf_name(colour),
                    pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                    pdf_name("/Filter"): pdf_name("/FlateDecode"),
                },
                encoded_data=data,
            )

        stream = image_stream(enc.rgb, "/DeviceRGB")
        if enc.alpha is not None:
            stream[pdf_name("/SMask")] = writer.add_object(image_stream(enc.alpha, "/DeviceGray"))
        self.set_resource(ResourceType.XOBJECT, pdf_name("/Im0"), writer.add_object(stream))
        w, h = enc.width, enc.height
        # Counter-rotated so the image is upright on a page the viewer turns by /Rotate.
        matrix = {
            90: (0, w, -h, 0, h, 0),
            180: (-w, 0, 0, -h, w, h),
            270: (0, -w, h, 0, 0, w),
        }.get(self.rotation, (w, 0, 0, h, 0, 0))
        return b"q %d %d %d %d %d %d cm /Im0 Do Q" % matrix


def _stamp_style(png: bytes, rotation: int = 0) -> StaticStampStyle:
    return StaticStampStyle(
        background=_ImageContent(png, rotation),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )


def _stock_stamp_style(png: bytes) -> StaticStampStyle:
    """pyHanko's documented way: a PdfImage from a decoded Pillow image, every time."""
    from PIL import Image
    from pyhanko.pdf_utils.images import PdfImage

    return StaticStampStyle(
        background=PdfImage(Image.open(io.BytesIO(png))), background_opacity=1.0, border_width=0
    )


@lru_cache(maxsize=128)
def default_appearance_png(name: str, when: str) -> bytes:
    """Used when a visible box is asked for without an image: the signer and the time."""
    from PIL import Image, ImageDraw

    from .fonts import pil_font

    image = Image.new("RGBA", (480, 120), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((1, 1, 478, 118), outline=(200, 0, 0, 255), width=3)
    draw.text((16, 14), f"签署人：{name}"[:24], font=pil_font(34), fill=(200, 0, 0, 255))
    draw.text((16, 66), f"时间：{when}", font=pil_font(30), fill=(200, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# -- signing --------------------------------------------------------------------------------


def sign_pdf(
    data: bytes,
    *,
    credentials: SignerCredentials,
    field_name: str,
    timestamper: Timestamper,
    box: Box | None = None,
    appearance_png: bytes | None = None,
    reason: str = "",
    location: str = "中国",
    stock: bool = False,
    stamps: Sequence[Stamp] = (),
) -> bytes:
    """Returns `data` with one more incremental revision; `data` is a prefix of the result.

    `stamps` (the party's marks: values, seal or handwritten signature images, date) go into
    the same revision, covered by this signature. Raises Unavailable (nothing produced) when
    the time-stamping authority fails, and Invalid when the document cannot be signed. `stock=True` uses pyHanko as documented
    (validation before signing, key re-parsed): the benchmark's baseline."""
    return run_sync(
        async_sign_pdf(
            data,
            credentials=credentials,
            field_name=field_name,
            timestamper=timestamper,
            box=box,
            appearance_png=appearance_png,
            reason=reason,
            location=location,
            stock=stock,
            stamps=stamps,
        )
    )


async def async_sign_pdf(
    data: bytes,
    *,
    credentials: SignerCredentials,
    field_name: str,
    timestamper: Timestamper,
    box: Box | None = None,
    appearance_png: bytes | None = None,
    reason: str = "",
    location: str = "中国",
    stock: bool = False,
    stamps: Sequence[Stamp] = (),
) -> bytes:
    if len(data) > MAX_SIGN_BYTES:
        raise Invalid("文件过大，无法签署")
    if not field_name or not field_name.replace("_", "").replace("-", "").isalnum():
        raise ValueError("field_name must be alphanumeric (with - or _)")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except Exception as exc:
        raise Invalid("文件不是有效的PDF，无法签署", code="not_pdf") from exc
    if writer.prev.encrypted:
        raise Invalid("PDF已加密，无法签署", code="pdf_encrypted")
    if any(field_name == name for name, _, _ in fields.enumerate_sig_fields(writer.prev)):
        raise Invalid(f"签名域“{field_name}”已存在", code="field_exists")

    if stamps:
        stamp_into(writer, list(stamps))
    field_spec = fields.SigFieldSpec(field_name)
    style: StaticStampStyle | None = None
    if box is not None:
        try:
            page_ref, _ = writer.find_page_for_modification(box.page - 1)
        except Exception as exc:
            raise Invalid.field("box", "签名位置所在的页不存在") from exc
        page = page_ref.get_object()
        rotation = page_rotation(page)
        rect = place(page_rect(page), box, rotation).rect
        field_spec = fields.SigFieldSpec(field_name, on_page=box.page - 1, box=rect)  # type: ignore[arg-type]
        png = appearance_png or default_appearance_png(credentials.common_name, china_text(datetime.now(UTC)))
        style = _stock_stamp_style(png) if stock else _stamp_style(png, rotation)

    ts: timestamps.TimeStamper
    if stock:
        signer: signers.SimpleSigner = StockSigner(credentials)
        meta = _stock_metadata(field_name, reason, location, credentials, timestamper)
        ts = (
            PlatformTimeStamper(timestamper)
            if isinstance(timestamper, PlatformTsa)
            else HttpTimeStamper(timestamper)
        )
    else:
        signer = _signer(credentials)
        ts = timestamper_for(timestamper)
        _embed_validation_data(writer, credentials, timestamper)
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            reason=reason or None,
            location=location or None,
            name=credentials.common_name,
            subfilter=fields.SigSeedSubFilter.PADES,
        )
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=ts, stamp_style=style, new_field_spec=field_spec)
    out = io.BytesIO()
    try:
        await pdf_signer.async_sign_pdf(writer, output=out)
    except Exception as exc:
        if _caused_by_tsa(exc):
            raise Unavailable("时间戳服务不可用，签署未完成，请稍后重试", "tsa_unavailable") from exc
        raise
    return out.getvalue()


def _embed_validation_data(
    writer: IncrementalPdfFileWriter, credentials: SignerCredentials, timestamper: Timestamper
) -> None:
    """Chain and CRLs into the DSS of the revision being signed, so the new signature covers
    them and the file stays B-LT without a separate revision after it.

    Written directly rather than with DocumentSecurityStore.supply_dss_in_writer, which
    parses every certificate already in the DSS to de-duplicate (a third of the time of a
    later party's signature); comparing DER bytes does the same job."""
    certs = [credentials.cert_der, *credentials.chain_der]
    if isinstance(timestamper, PlatformTsa):
        certs += [timestamper.cert_der, *timestamper.chain_der]
    root = writer.root
    dss: generic.DictionaryObject | None = None
    have: dict[str, set[bytes]] = {"/Certs": set(), "/CRLs": set()}
    if "/DSS" in root:
        dss = root["/DSS"]
        for key, seen in have.items():
            for ref in dss.get(key, ()):
                seen.add(ref.get_object().data)
    wanted = {"/Certs": list(dict.fromkeys(certs)), "/CRLs": list(dict.fromkeys(credentials.crls_der))}
    additions = {key: [der for der in wanted[key] if der not in have[key]] for key in wanted}
    if dss is not None and not any(additions.values()):
        return
    target = dss if dss is not None else generic.DictionaryObject({pdf_name("/Type"): pdf_name("/DSS")})
    for key, ders in additions.items():
        refs = [writer.add_object(generic.StreamObject(stream_data=der)) for der in ders]
        previous = list(target.get(key, ())) if dss is not None else []
        if previous or refs:
            target[pdf_name(key)] = generic.ArrayObject(previous + refs)
    if dss is None:
        root[pdf_name("/DSS")] = writer.add_object(target)
        writer.update_root()
    else:
        writer.update_container(target)


def _stock_metadata(
    field_name: str, reason: str, location: str, credentials: SignerCredentials, timestamper: Timestamper
) -> signers.PdfSignatureMetadata:
    from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
    from pyhanko_certvalidator import ValidationContext

    chain = [_asn1_cert(der) for der in credentials.chain_der]
    others = chain[:-1]
    if isinstance(timestamper, PlatformTsa):
        others.append(_asn1_cert(timestamper.cert_der))
    context = ValidationContext(
        trust_roots=chain[-1:],
        other_certs=others,
        crls=[_asn1_crl(der) for der in credentials.crls_der],
        allow_fetching=False,
    )
    return signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        reason=reason or None,
        location=location or None,
        name=credentials.common_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=True,
        validation_context=context,
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
        ),
    )


def _caused_by_tsa(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, TsaFailure):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def document_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
