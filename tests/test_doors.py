"""The doors (laborsign/http.py) are separate: no door's package imports another's."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "laborsign"
DOORS = ("api", "webhooks", "h5", "dashboard")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module is not None and node.level:
            parts = path.relative_to(PACKAGE).parent.parts[
                : max(0, len(path.relative_to(PACKAGE).parent.parts) - node.level + 1)
            ]
            names.add(".".join([*parts, node.module]).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("laborsign."):
            names.add(node.module.split(".")[1])
    return names


def test_no_door_imports_another() -> None:
    for door in DOORS:
        for path in (PACKAGE / door).rglob("*.py"):
            others = _imported(path) & (set(DOORS) - {door})
            assert not others, f"{path.relative_to(PACKAGE)} imports the door(s) {sorted(others)}"
