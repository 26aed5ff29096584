"""The import graph points one way: core imports no app, the ledger knows nothing of payments,
reconciliation or the back office, payments nothing of reconciliation, reconciliation nothing of the back
office, and the sandbox (a separate program) nothing of ours.

Read from the source with ast, imports inside functions included, so a lazy import cannot hide an arrow.
Tests and migrations are left out: a test may use any app's factories.
"""

import ast
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
APPS = ("core", "accounts", "ledger", "payments", "reconciliation", "backoffice", "ledgerpay", "sandbox")
FORBIDDEN = {
    "core": {"accounts", "ledger", "payments", "reconciliation", "backoffice"},
    "ledger": {"payments", "reconciliation", "backoffice"},
    "payments": {"reconciliation"},
    "reconciliation": {"backoffice"},
    "sandbox": set(APPS) - {"sandbox"},
}


def _modules(package: str) -> list[Path]:
    root = PROJECT_DIR / package
    return [
        path for path in root.rglob("*.py") if not {"tests", "migrations"} & set(path.relative_to(root).parts)
    ]


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_above_it(package):
    arrows = [
        f"{path.relative_to(PROJECT_DIR)}:{line} imports {imported}"
        for path in _modules(package)
        for imported, line in sorted(_imported_packages(path))
        if imported in FORBIDDEN[package]
    ]
    assert _modules(package), f"no modules found for {package}"
    assert arrows == []


def test_the_layer_check_sees_a_lazy_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from payments.models import Payment\n    return Payment\n")
    assert ("payments", 2) in _imported_packages(module)
