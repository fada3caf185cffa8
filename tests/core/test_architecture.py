"""The core must stay Qt-free and pickle-free: checked statically and at import time."""
import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE = ROOT / "labeler"
FORBIDDEN_PREFIXES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "ui")


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_core_sources_never_import_qt_or_ui():
    offenders = [f"{p.relative_to(ROOT)}:{line} imports {name}"
                 for p in CORE.rglob("*.py") for line, name in _imports(p)
                 if name.split(".")[0] in FORBIDDEN_PREFIXES]
    assert not offenders, "labeler/ must stay Qt-free:\n" + "\n".join(offenders)


def test_importing_every_core_module_loads_no_qt():
    modules = sorted("labeler." + ".".join(p.relative_to(CORE).with_suffix("").parts)
                     for p in CORE.rglob("*.py") if p.name != "__init__.py")
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing labeler loaded Qt modules: {out.stdout}"


def test_core_never_pickles():
    offenders = []
    for p in CORE.rglob("*.py"):
        for line, name in _imports(p):
            if name.split(".")[0] in ("pickle", "cPickle", "dill", "joblib"):
                offenders.append(f"{p.relative_to(ROOT)}:{line} imports {name}")
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load" \
                    and getattr(node.func.value, "id", None) == "np":
                kw = {k.arg: k.value for k in node.keywords}
                if not (isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is False):
                    offenders.append(f"{p.relative_to(ROOT)}:{node.lineno} np.load without allow_pickle=False")
    assert not offenders, "\n".join(offenders)
