"""The layers depend one way, and every KEDAH_* variable is named in one place.

Read from the source with ``ast`` (imports inside functions count too), so a shortcut through a
lazy import fails here as well.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kedah_analytics.config import settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kedah_analytics", "assets", "resources", "sensors")

# What each part of the core library may import from the project (besides itself).
BASE = {"kedah_analytics.domain", "kedah_analytics.config.settings"}
ALLOWED: dict[str, set[str]] = {
    "kedah_analytics.domain": set(),
    "kedah_analytics.config.settings": set(),
    # Configuration: where state lives, the tracking file (settings, the variables, stand in BASE).
    "kedah_analytics.config": BASE | {"kedah_analytics.embedded_pg"},
    "kedah_analytics.embedded_pg": BASE,
    "kedah_analytics.notify": BASE,
    "kedah_analytics.places": BASE | {"kedah_analytics.config"},
    "kedah_analytics.place_metrics": BASE | {"kedah_analytics.config"},
    "kedah_analytics.sources": BASE | {"kedah_analytics.config"},
    "kedah_analytics.warehouse": BASE | {"kedah_analytics.config"},
    # Which failures are transient: a rule over exceptions of the libraries, for every layer.
    "kedah_analytics.transient": set(),
    # The garbage collector's settings for a process that loads the code location.
    "kedah_analytics.collector": set(),
    "kedah_analytics.classify": BASE
    | {"kedah_analytics.config", "kedah_analytics.places", "kedah_analytics.transient"},
    "kedah_analytics.trends": BASE | {"kedah_analytics.config"},
    # Marts sit on the trend detector, the warehouse and the places (city names); charts draw what
    # queries return.
    "kedah_analytics.marts": BASE
    | {
        "kedah_analytics.config",
        "kedah_analytics.trends",
        "kedah_analytics.warehouse",
        "kedah_analytics.places",
    },
    # A spent quota defers its source: what the sources say ran out, kept in the warehouse.
    "kedah_analytics.deferrals": BASE | {"kedah_analytics.sources", "kedah_analytics.warehouse"},
    # Collecting raw posts joins the sources to the storage boundary and the warehouse's writes.
    "kedah_analytics.ingest": BASE
    | {
        "kedah_analytics.config",
        "kedah_analytics.sources",
        "kedah_analytics.warehouse",
        "kedah_analytics.deferrals",
    },
    # Data-quality rules behind the asset checks, over warehouse tables and marts.
    "kedah_analytics.quality": BASE
    | {"kedah_analytics.config", "kedah_analytics.marts", "kedah_analytics.warehouse"},
    "kedah_analytics.charts": BASE,
    # Markdown tables of a few rows (a write's preview in the UI).
    "kedah_analytics.markdown": BASE,
    "kedah_analytics.executors": BASE,
    # Phases of work side by side in worker processes (a command-line backfill's runs).
    "kedah_analytics.phases": set(),
    "kedah_analytics.topology": BASE | {"kedah_analytics.config", "kedah_analytics.executors"},
}
# Entry points sit on top of everything.
TOP = {
    "kedah_analytics.queries",
    "kedah_analytics.cli",
    "kedah_analytics.definitions",
    "kedah_analytics.config.validate",
    "kedah_analytics.report",
    "kedah_analytics.status",
    "kedah_analytics.serving",
    "kedah_analytics",
}
# The board's window sits on top too: the HTTP API and the dashboard read through queries and status.
TOP_PACKAGES = ("kedah_analytics.api", "kedah_analytics.dashboard")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module not in PACKAGES:  # "from kedah_analytics import settings" names the module
                found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _project_modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }


def _layer(module: str) -> str | None:
    """The ALLOWED key a module belongs to (its package, or itself for a top-level module)."""
    for key in sorted(ALLOWED, key=len, reverse=True):
        if module == key or module.startswith(key + "."):
            return key
    return None


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def test_the_core_library_imports_only_the_layers_below_it():
    modules = _project_modules()
    broken = []
    for module, path in modules.items():
        if module in TOP or module.startswith(TOP_PACKAGES) or not module.startswith("kedah_analytics"):
            continue
        layer = _layer(module)
        assert layer is not None, f"{module} belongs to no layer: add it to ALLOWED in this test"
        for name in _imports(path):
            if not _is_project(name) or _layer(name) == layer:
                continue
            target = _layer(name) or name
            if not any(target == allowed or target.startswith(allowed + ".") for allowed in ALLOWED[layer]):
                broken.append(f"{module} imports {name}")
    assert not broken, "lower layers import higher ones:\n" + "\n".join(sorted(set(broken)))


def test_only_definitions_joins_the_library_to_dagster():
    offenders = [
        f"{module} imports {name}"
        for module, path in _project_modules().items()
        if module.startswith("kedah_analytics") and module != "kedah_analytics.definitions"
        for name in _imports(path)
        if name.split(".")[0] in {"dagster", "assets", "resources", "sensors"}
    ]
    assert not offenders, offenders


def test_resources_do_not_depend_on_assets_or_sensors():
    offenders = [
        f"{module} imports {name}"
        for module, path in _project_modules().items()
        if module.startswith("resources")
        for name in _imports(path)
        if name.split(".")[0] in {"assets", "sensors"}
    ]
    assert not offenders, offenders


def test_the_layer_rules_catch_a_lower_layer_importing_a_higher_one(tmp_path):
    """The checker itself: a warehouse module importing a source is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from kedah_analytics.sources.common.base import SourceError\n")
    names = _imports(bad)
    layer = "kedah_analytics.warehouse"
    assert any(_layer(n) == "kedah_analytics.sources" and _layer(n) not in ALLOWED[layer] for n in names)


_KEDAH_NAME = re.compile(r"\bKEDAH_[A-Z0-9_]+\b")


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(owner.body[0].value)
        for owner in ast.walk(tree)
        if isinstance(owner, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and owner.body
        and isinstance(owner.body[0], ast.Expr)
        and isinstance(owner.body[0].value, ast.Constant)
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_every_variable_is_named_in_settings_only(package):
    """Code names a variable through its Setting, so renaming one is one edit (docstrings and
    comments may mention them)."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if path.name == "settings.py":
            continue
        tree = ast.parse(path.read_text())
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if names := _KEDAH_NAME.findall(node.value):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {names}")
    assert not offenders, "KEDAH_* names outside kedah_analytics/config/settings.py:\n" + "\n".join(offenders)


def test_the_readme_lists_every_setting_and_no_other():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `(KEDAH_[A-Z0-9_]+)`", readme, flags=re.M))
    known = {s.name for s in settings.ALL}
    assert known - listed == set(), f"settings missing from the README tables: {sorted(known - listed)}"
    assert listed - known == set(), (
        f"README lists variables settings.py does not know: {sorted(listed - known)}"
    )


def test_a_setting_reads_its_default_when_unset_or_blank():
    assert settings.SOURCE_MODE.read({}) == "auto"
    assert settings.SOURCE_MODE.read({"KEDAH_SOURCE_MODE": "  "}) == "auto"
    assert settings.SOURCE_MODE.read({"KEDAH_SOURCE_MODE": " demo "}) == "demo"
    assert settings.X_BEARER_TOKEN.read({}) is None and settings.X_BEARER_TOKEN.secret


@pytest.mark.parametrize("group", [settings.CORE, settings.SOURCES])
def test_the_readme_tables_are_the_settings_module_word_for_word(group):
    """README tables come from settings.markdown_table: run scripts/readme_settings.py after a change."""
    readme = (ROOT / "README.md").read_text()
    body = settings.markdown_table(group).split("\n", 2)[2]  # the rows, below either header
    assert body in readme


def test_the_readme_module_map_matches_the_code():
    """README's module map comes from the modules' docstrings: run scripts/readme_modules.py after a change."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_modules", ROOT / "scripts" / "readme_modules.py")
    assert spec and spec.loader
    readme_modules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme_modules)
    text = (ROOT / "README.md").read_text()
    assert readme_modules.replace_map(text, readme_modules.module_map()) == text, (
        "README.md's module map is stale: run python scripts/readme_modules.py"
    )


def test_the_module_map_names_a_new_module(tmp_path):
    """The generator itself: a module added to a package shows in the map with its docstring."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_modules", ROOT / "scripts" / "readme_modules.py")
    assert spec and spec.loader
    readme_modules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme_modules)
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "assets" / "newstage.py").write_text('"""A new stage: what it holds."""\n')
    assert "| `assets/newstage.py` | A new stage: what it holds. |" in readme_modules.module_map(tmp_path)


_SQL = re.compile(r"\b(select\b.+\bfrom|insert\s+into|update\s+\S+\s+set|delete\s+from)\b", re.I | re.S)


@pytest.mark.parametrize("package", ["kedah_analytics/api", "kedah_analytics/dashboard"])
def test_the_api_and_dashboard_hold_no_sql(package):
    """They read through queries and status, so every figure has one definition."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "cursor"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert (ROOT / package).is_dir() and not offenders, offenders
