"""Imports flow one way: app.py -> ui -> gan. `gan` never imports gradio, spaces or ui; ui never imports app."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gan_package_never_imports_gradio_or_the_ui():
    code = (
        "import sys, pkgutil, importlib, gan\n"
        "for m in pkgutil.walk_packages(gan.__path__, 'gan.'):\n"
        "    if m.name != 'gan.__main__': importlib.import_module(m.name)\n"
        "bad = [name for name in sys.modules if name.split('.')[0] in ('gradio', 'spaces', 'ui', 'app')]\n"
        "print(len(list(pkgutil.walk_packages(gan.__path__))), bad)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 10  # really walked the package


def imports(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_the_ui_imports_gan_never_app_and_tabs_do_not_import_each_other():
    tabs = {"ui.generate", "ui.finetune", "ui.style", "ui.hub"}
    for path in sorted((ROOT / "ui").glob("*.py")):
        names = imports(path)
        assert not any(name == "app" or name.startswith("app.") for name in names), path
        module = f"ui.{path.stem}"
        others = {name for name in names if name in tabs} - {module}
        allowed = {"ui.hub": {"ui.finetune"}, "ui": tabs}.get(module if path.stem != "__init__" else "ui", set())
        assert others <= allowed, (path.name, others)
    for path in sorted((ROOT / "gan").rglob("*.py")):
        assert not {name for name in imports(path) if name.split(".")[0] in ("ui", "app", "gradio", "spaces")}, path
