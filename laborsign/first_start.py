"""What a fresh installation is given on its first start: the standard 劳动合同 as an enabled
public template every enterprise can launch from (`[templates] standard_public`).

Made once per installation, whichever process starts first. A platform value records that it
was shipped, so a template the regulator later closes or deletes stays so; the template's id
is fixed, so processes starting together, or one stopped between making the template and
recording it, never leave two copies."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .core import standard_contract
from .core.errors import Conflict
from .core.services.templates import ship_public_template
from .storage.platform import shared_value

if TYPE_CHECKING:
    from .bootstrap import AppDeps

log = logging.getLogger("laborsign.first_start")

SHIPPED = "shipped.standard_labor_contract"
STANDARD_TEMPLATE_ID = "000000000000000000000000000017a1"
FILE_NAME = "标准劳动合同.pdf"


async def ship_standard_template(deps: AppDeps) -> None:
    async def make() -> str:
        pdf, controls = standard_contract.build_template_pdf()
        try:
            made = await ship_public_template(
                deps,
                STANDARD_TEMPLATE_ID,
                standard_contract.NAME,
                "labor_contract",
                (FILE_NAME, pdf),
                controls,
            )
        except Conflict:
            made = None  # another process made it a moment ago
        if made is not None:
            log.info("standard labor contract offered as a public template", extra={"template": made.id})
        return STANDARD_TEMPLATE_ID

    await shared_value(deps.db.engine, SHIPPED, make, deps.clock.now())
