"""The contract's controls: the values each side fills, what is drawn before anyone signs and
the prepared fields the parties' own marks go into."""

from __future__ import annotations

from ...contracts import display_value, parse_control_value
from ...controls import MARK_KINDS, SIGNING_KINDS, Control, ControlKind, FilledBy
from ...errors import Invalid
from ...pdf.compose import rebase_controls
from ...pdf.stamps import Stamp
from ...templates import Template


def merge_controls(templates: list[Template], starts: list[list[int]]) -> list[Control]:
    """Controls of all chosen templates on the merged document. A key used by two templates
    is one field (filled once, drawn in both places)."""
    out: list[Control] = []
    for template, template_starts in zip(templates, starts, strict=True):
        out.extend(rebase_controls(template.controls, template_starts))
    return out


def unique_controls(controls: list[Control]) -> dict[str, Control]:
    seen: dict[str, Control] = {}
    for c in controls:
        seen.setdefault(c.key, c)
    return seen


def collect_values(
    controls: list[Control], filled_by: str, given: object, prefill: dict[str, str] | None = None
) -> dict[str, str]:
    """Typed values of the controls one side fills, every error at once; `prefill` stands in
    for what was not given. A signing party's signature, seal and date areas are not values:
    they are made when it signs."""
    data = given if isinstance(given, dict) else {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, control in unique_controls(controls).items():
        if control.filled_by != filled_by:
            continue
        if filled_by != FilledBy.INITIATOR and control.kind in SIGNING_KINDS:
            continue
        try:
            value = parse_control_value(control, data.get(key, (prefill or {}).get(key)))
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        if value is not None:
            values[key] = value
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return values


def stamps_for(controls: list[Control], values: dict[str, str]) -> list[Stamp]:
    return [
        Stamp(*c.box, text=display_value(c, values[c.key]))
        for c in controls
        if c.key in values and c.kind not in MARK_KINDS
    ]


def slot_name(index: int) -> str:
    """The form field prepared for the control at `index` of a contract's controls."""
    return f"ls_mark_{index}"


def party_slots(controls: list[Control]) -> list[Stamp]:
    """Where the parties' own marks will go: one prepared field per control they fill."""
    return [
        Stamp(*c.box, slot=slot_name(i))
        for i, c in enumerate(controls)
        if c.filled_by in (FilledBy.WORKER, FilledBy.ENTERPRISE)
    ]


def placeholder_prefill(controls: list[Control]) -> dict[str, str]:
    """Worker facts are only known per worker; assume they will be present for the dry run."""
    out = {}
    for c in controls:
        if c.key.startswith("worker_") and c.filled_by == FilledBy.INITIATOR:
            if c.kind == ControlKind.CHOICE and c.options:
                out[c.key] = c.options[0]
            else:
                out[c.key] = {ControlKind.DATE: "2000-01-01", ControlKind.NUMBER: "1"}.get(c.kind, "-")
    return out
