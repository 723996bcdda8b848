"""Module lists that cannot go stale: every module of a package is named in its package's
docstring and in the README's table of the layout (a module added without a word there fails)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "clawsim"
# the CLI's package docstring says "one module per command" instead of listing them
LISTED = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py") if p.parent.name != "cli")


def _modules(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("__"))


def _named(text: str, module: str) -> bool:
    return (
        re.search(rf"``{module}(\.py)?``|`{module}(\.py)?`|{module}\.py|``{module}_\*``|`{module}_\*`", text)
        is not None
    )


def _covered(text: str, module: str) -> bool:
    """Named itself, or by a family pattern such as ``chain_*``."""
    family = module.split("_")[0]
    return _named(text, module) or (family != module and _named(text, family))


@pytest.mark.parametrize("package", LISTED)
def test_a_package_docstring_names_each_of_its_modules(package):
    folder = PACKAGE / package
    doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    missing = [m for m in _modules(folder) if not _covered(doc, m)]
    assert not missing, f"clawsim/{package}/__init__.py's docstring does not name {missing}"


def test_the_readme_layout_table_names_every_module():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| folder or module | concept |") :]
    table = table[: table.index("\n\n")]
    rows = {}
    for line in table.splitlines()[2:]:
        first = line.split("|")[1]
        for folder in re.findall(r"`clawsim/(\w+)/`", first):
            rows[folder] = line
    missing = [f"{p}/{m}" for p in LISTED for m in _modules(PACKAGE / p) if not _covered(rows.get(p, ""), m)]
    top = [m for m in _modules(PACKAGE) if not _covered(table, m)]
    assert not missing and not top, f"README's layout table does not name {missing + top}"
