"""The architecture is kept by tools, not by comments: the import contracts
(``[tool.importlinter]`` in pyproject.toml: layers, nothing below the screens
imports Streamlit, no cycles) and ruff's rules hold on the checkout, and each
breaks on a deliberate violation planted in a copy of it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LINT_IMPORTS = BIN / "lint-imports"
RUFF = BIN / "ruff"


def _tool(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path.name} is missing under CI=true (pip install -e '.[test]')")
        pytest.skip(f"{path.name} is not installed (pip install -e '.[test]')")
    return path


def _run(tool: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the code the contracts cover, to plant violations in."""
    dst = tmp_path_factory.mktemp("arch")
    for d in ("dashboard", "queries"):
        shutil.copytree(ROOT / d, dst / d, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def test_the_checkout_keeps_every_contract_and_rule():
    out = _run(_tool(LINT_IMPORTS), ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROKEN" not in out.stdout and "0 broken" in out.stdout
    out = _run(_tool(RUFF), ROOT, "check", ".")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(
    "file, line, broken, says",
    [
        # a query module that draws: Streamlit below the screens
        ("queries/_common.py", "import streamlit", "Below the screens nothing imports Streamlit BROKEN", "queries._common -> streamlit"),
        # the database room reaching up into the screens
        ("dashboard/db/schema.py", "from dashboard.ui import fmt", "shared ground (each imports only the layers below) BROKEN", "dashboard.db.schema -> dashboard.ui.fmt"),
        # a reader writing: the ui importing the simulator
        ("dashboard/ui/plots.py", "from dashboard.writers import simulate", "shared ground (each imports only the layers below) BROKEN", "dashboard.ui.plots -> dashboard.writers.simulate"),
        # a cycle between two modules of one room
        ("dashboard/ui/fmt.py", "from dashboard.ui import widgets", "No import cycles among the modules of a package BROKEN", "No cycles are allowed in dashboard.ui"),
    ],
)
def test_a_planted_violation_breaks_the_contracts(copy: Path, file: str, line: str, broken: str, says: str):
    target = copy / file
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original + f"\n{line}  # planted by the test\n", encoding="utf-8")
        out = _run(_tool(LINT_IMPORTS), copy, "--no-cache")
        assert out.returncode != 0, out.stdout
        text = " ".join(out.stdout.split())
        assert broken in text and says in text, out.stdout
    finally:
        target.write_text(original, encoding="utf-8")


def test_a_function_level_import_breaks_ruff(copy: Path):
    target = copy / "dashboard" / "ui" / "fmt.py"
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original + "\n\ndef _planted() -> object:\n    from dashboard import timeutil\n\n    return timeutil\n", encoding="utf-8")
        out = _run(_tool(RUFF), copy, "check", "dashboard/ui/fmt.py")
        assert out.returncode != 0 and "PLC0415" in out.stdout, out.stdout
    finally:
        target.write_text(original, encoding="utf-8")


def test_the_readme_layout_table_names_every_room_and_module():
    """README's "Layout" table matches the folders: every package under
    dashboard/ and every module of the shared ground, the commands and the
    rooms is named there, and every path it names exists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Layout\n") : text.index("\n## ", text.index("## Layout\n") + 5)]
    missing = []
    for pkg in sorted(p.parent for p in (ROOT / "dashboard").glob("*/**/__init__.py")):
        if f"`dashboard/{pkg.name}/`" not in table and f"`{pkg.name}/`" not in table:
            missing.append(str(pkg.relative_to(ROOT)) + "/")
        for mod in sorted(pkg.glob("*.py")):
            if mod.name != "__init__.py" and f"`{mod.name}`" not in table and f"`{mod.stem}.py`" not in table:
                missing.append(str(mod.relative_to(ROOT)))
    for mod in sorted((ROOT / "dashboard").glob("*.py")):
        if mod.name != "__init__.py" and mod.name not in table:
            missing.append(str(mod.relative_to(ROOT)))
    for d in ("pages/desk/", "pages/wall/", "queries/", "assets/", "tests/", "bench/"):
        if f"`{d}`" not in table:
            missing.append(d)
    assert not missing, f"README's layout table does not name: {missing}"
    for named in {m for m in re.findall(r"`((?:dashboard|pages|queries)/[\w/]*\.?\w*)`", table)}:
        assert (ROOT / named).exists(), f"README's layout table names {named}, which does not exist"
