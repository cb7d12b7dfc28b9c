"""Domain errors. Doors translate them: each class carries the HTTP status it maps to,
a stable snake_case code and a Chinese message meant for a person."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class DomainError(Exception):
    status = 400
    default_code = "bad_request"

    def __init__(self, message: str, code: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra: dict[str, object] = dict(extra)


class BadRequest(DomainError):
    status = 400
    default_code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class WrongState(DomainError):
    """The object exists but is not in a state that allows the action (HTTP 409)."""

    status = 409
    default_code = "wrong_state"


class Conflict(WrongState):
    """Someone else changed the same record between our read and our write (a lost
    optimistic-lock race or a duplicate insert): nothing was written, the caller may reload
    and try again. The unit of work raises it for the database's own conflict errors."""

    default_code = "concurrent_update"

    def __init__(self, message: str = "记录已被其他操作更新，请刷新后重试", code: str | None = None,
                 **extra: object) -> None:  # fmt: skip
        super().__init__(message, code, **extra)


class TooLarge(DomainError):
    status = 413
    default_code = "too_large"


class UnsupportedType(DomainError):
    status = 415
    default_code = "unsupported_type"


class Invalid(DomainError):
    """Validation failed; `fields` maps a field name to a Chinese message (HTTP 422)."""

    status = 422
    default_code = "validation_failed"

    def __init__(
        self,
        message: str = "提交的信息有误，请检查后重试",
        fields: Mapping[str, str] | None = None,
        code: str | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message, code, **extra)
        self.fields = dict(fields or {})

    @classmethod
    def field(cls, name: str, message: str, code: str | None = None) -> Invalid:
        return cls(message, {name: message}, code)


class RateLimited(DomainError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code, retry_after=max(1, int(retry_after)))
        self.retry_after = max(1, int(retry_after))


class CaptchaRequired(DomainError):
    """The request must carry a solved image captcha (HTTP 428 Precondition Required)."""

    status = 428
    default_code = "captcha_required"


class Unavailable(DomainError):
    """A third party (TSA, provider) failed; nothing was changed."""

    status = 503
    default_code = "unavailable"


def not_before(message: str, code: str, at: datetime) -> WrongState:
    """A 409 that tells the caller when the action becomes possible."""
    return WrongState(message, code, next_allowed_at=at.isoformat())
