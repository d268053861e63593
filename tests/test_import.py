import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gan_package_never_imports_gradio():
    code = (
        "import sys, pkgutil, importlib, gan\n"
        "for m in pkgutil.walk_packages(gan.__path__, 'gan.'):\n"
        "    if m.name != 'gan.__main__': importlib.import_module(m.name)\n"
        "bad = [name for name in sys.modules if name.split('.')[0] in ('gradio', 'spaces')]\n"
        "print(len(list(pkgutil.walk_packages(gan.__path__))), bad)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 10  # really walked the package
