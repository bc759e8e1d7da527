"""The package layout: imports point one way (front doors -> core -> subsystems -> bottom)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# Layers from the bottom up; a module may import its own layer and the ones below, except
# that the two subsystems and the two front doors do not import each other.
BOTTOM = {"bot.domain", "bot.text", "bot.reply", "bot.render", "bot.knowledge", "bot.storage"}
SUBSYSTEMS = {"bot.answering", "bot.followups"}
CORE = {"bot.coach", "bot.config", "bot.privacy"}
DOORS = {"bot.telegram", "bot.terminal", "bot.__main__"}
LAYERS = [BOTTOM, SUBSYSTEMS, CORE, DOORS]
# Within the bottom, `domain` is the floor: it imports nothing of ours.
FLOOR = "bot.domain"


def _module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The layer member a module belongs to: its package, or itself at the top level."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _layer(unit: str) -> int:
    for number, layer in enumerate(LAYERS):
        if unit in layer:
            return number
    raise AssertionError(f"{unit} belongs to no layer: add it to tests/test_layout.py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `bot...` import, lazy ones inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot":
                found += [(node.lineno, f"bot.{alias.name}") for alias in node.names]
            elif node.module.startswith("bot."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("bot.")]
    return found


def _violations(path: Path, module: str | None = None) -> list[str]:
    """Imports of `path` (judged as `module`, by default its own name) against the layers."""
    here = _unit(module or _module_name(path))
    problems = []
    for line, imported in _imports(path):
        there = _unit(imported)
        if there == here:
            continue
        upward = _layer(there) > _layer(here)
        sideways = _layer(there) == _layer(here) and _layer(here) in (1, 3)
        from_floor = here == FLOOR
        # __main__ is the entry point: it may start either front door.
        if here == "bot.__main__" and _layer(there) == 3:
            continue
        if upward or sideways or from_floor:
            problems.append(f"{path.name}:{line}: {here} imports {imported}")
    return problems


MODULES = sorted(BOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(BOT)))
def test_imports_point_down(path: Path) -> None:
    assert _violations(path) == []


@pytest.mark.parametrize(
    ("original", "planted"),
    [
        ("storage/users.py", "from bot.coach import Coach"),  # bottom -> core
        ("followups/tracker.py", "from bot.answering.service import AnswerService"),  # sideways
        ("domain.py", "from bot.text import fold"),  # the floor imports nothing of ours
        ("coach.py", "from bot.telegram import app"),  # core -> front door
    ],
)
def test_the_rule_catches_a_wrong_import(tmp_path: Path, original: str, planted: str) -> None:
    copy = tmp_path / "module.py"
    copy.write_text((BOT / original).read_text(encoding="utf-8") + f"\n{planted}\n")
    module = _module_name(BOT / original)
    assert _violations(BOT / original) == []
    assert len(_violations(copy, module)) == 1


@pytest.mark.parametrize(
    "package", sorted(p for p in BOT.iterdir() if p.is_dir() and p.name != "__pycache__")
)
def test_every_package_says_what_it_owns_and_may_import(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"{package.name}/__init__.py needs a docstring"
    assert "import" in doc, f"{package.name}/__init__.py must say what it may import"


def test_sql_stays_in_the_storage_package() -> None:
    keywords = ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM")
    outside = [
        str(path.relative_to(BOT.parent))
        for path in MODULES
        if "storage" not in path.parts
        and any(word in path.read_text(encoding="utf-8") for word in keywords)
    ]
    assert outside == []
