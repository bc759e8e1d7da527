"""The package as a user installs it: a wheel in a fresh venv answers from any folder.

Offline and quick: the wheel is built without build isolation (the `[test]` extra brings
setuptools), installed with `--no-index --no-deps`, and the venv borrows the running
environment's dependencies through a `.pth` file instead of installing them again.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

QUESTION = "wie lang darf die linkedin notiz sein"
# The wheel is built from these alone, the same files deploy/Dockerfile copies.
SOURCES = ("pyproject.toml", "README.md", "bot", "knowledge")
# The first setuptools that builds a wheel without the `wheel` package.
BACKEND = (70, 1)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    python: Path
    script: Path


def _version(text: str) -> tuple[int, ...]:
    """The leading numbers of a version: "84.2.1" -> (84, 2)."""
    parts = [part for part in text.split(".")[:2] if part.isdigit()]
    return tuple(int(part) for part in parts)


def _require_tools() -> None:
    """Skip without pip; without a wheel-building setuptools, skip locally but fail in CI."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not installed in this interpreter")
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        version = "none"
    if _version(version) < BACKEND:
        # Only an environment older than the `[test]` extra lacks it; CI builds its own.
        message = f"setuptools {version} cannot build the wheel offline: run `make` to update"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _check(command: list[str], cwd: Path) -> str:
    """Run a build step; fail with its output, which names the cause."""
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _pip(*args: str, cwd: Path) -> str:
    """The running interpreter's pip, offline: never an index."""
    return _check(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args, "--no-index"], cwd
    )


def _build_wheel(work: Path) -> Path:
    """The wheel of a copy of the sources, so setuptools' build/ stays out of the checkout."""
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    _pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        str(dist),
        str(source),
        cwd=work,
    )
    (wheel,) = dist.glob("*.whl")
    return wheel


def _make_venv(work: Path, wheel: Path) -> Installed:
    """A fresh venv with only the wheel installed, and the dependencies borrowed by path."""
    venv = work / "venv"
    # Without pip, which saves seconds: the running pip installs into it (`--python`).
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)], work)
    python = venv / "bin" / "python"
    _pip("--python", str(python), "install", "--no-deps", "--quiet", str(wheel), cwd=work)
    site = _check(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work
    )
    # A .pth line only appends its folder to sys.path; the .pth files in that folder (such as
    # this checkout's editable install) do not run, and the venv's own bot comes first.
    borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (Path(site.strip()) / "_borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n")
    return Installed(wheel, venv, python, venv / "bin" / "netzwerk-coach")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    _require_tools()
    work = tmp_path_factory.mktemp("install")
    try:
        yield _make_venv(work, _build_wheel(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command as a user starts it from `cwd`: no PYTHONPATH, no settings of ours."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME") and not key.startswith("BOT_")
    }
    env["BOT_DB_PATH"] = str(cwd / "data" / "bot.sqlite3")
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_wheel_holds_every_module_and_every_knowledge_file(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert {"bot/content/entries.toml", "bot/answering/service.py"} <= names
    # The package list in pyproject.toml is written by hand: a new subpackage must be added.
    code = {f"bot/{p.relative_to(ROOT / 'bot').as_posix()}" for p in (ROOT / "bot").rglob("*.py")}
    knowledge = {
        f"bot/content/{p.relative_to(ROOT / 'knowledge').as_posix()}"
        for p in (ROOT / "knowledge").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "bot/content/sources/updates-since-2019.md" in knowledge
    assert sorted((code | knowledge) - names) == []


@pytest.mark.parametrize("how", ["console script", "python -m bot"])
def test_the_installed_bot_answers_from_any_folder(
    installed: Installed, tmp_path: Path, how: str
) -> None:
    start = (
        [str(installed.script)] if how == "console script" else [str(installed.python), "-m", "bot"]
    )
    result = _run([*start, "ask", QUESTION], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "300 Zeichen" in result.stdout


def test_the_installed_bot_reads_its_own_knowledge(installed: Installed, tmp_path: Path) -> None:
    where = _run(
        [str(installed.python), "-c", "from bot.knowledge import DEFAULT_DIR; print(DEFAULT_DIR)"],
        tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(installed.venv.resolve()), (
        where.stdout
    )
    # The fingerprint and every TOML file come from the wheel: the full check passes.
    check = _run([str(installed.script), "kb", "check"], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
