"""The public API is typed: mypy (configured in pyproject.toml) finds no error in bounds,
estimators, verify and the command line, and every public function and method (the names in the
``__all__`` of each package and module) annotates its parameters and return value.

The mypy run takes about 30 s of CPU on a clean checkout (it reads the stubs of torch, NumPy and
SymPy once) and a few seconds afterwards (its cache, .mypy_cache/)."""

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bounds", "estimators", "verify")


def test_mypy_finds_no_error():
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found" in proc.stdout


def test_typed_marker_is_shipped():
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").exists()
    assert "py.typed" in (ROOT / "pyproject.toml").read_text()


def _public_functions():
    """(qualified name, function) for every public function and method of the packages."""
    for package in PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [f"{package}.{m.name}" for m in pkgutil.walk_packages(root.__path__)
                             if not m.name.split(".")[-1].startswith("_")]
        for name in names:
            module = importlib.import_module(name)
            for attr in getattr(module, "__all__", []):
                obj = getattr(module, attr)
                if inspect.isclass(obj):
                    members = [(f"{attr}.{k}", v) for k, v in vars(obj).items()
                               if inspect.isfunction(v) and v.__name__ != "<lambda>"
                               and (not k.startswith("_") or k == "__init__")]
                elif inspect.isfunction(obj):
                    members = [(attr, obj)]
                else:
                    continue
                for qualname, f in members:
                    if f.__module__.split(".")[0] == package:
                        yield f"{f.__module__}.{qualname}", f


def test_public_functions_are_annotated():
    missing = []
    for qualname, f in _public_functions():
        params = [p for p in inspect.signature(f).parameters if p not in ("self", "cls")]
        lacking = [p for p in params if p not in f.__annotations__]
        lacking += [] if "return" in f.__annotations__ else ["return"]
        if lacking:
            missing.append(f"{qualname}: {', '.join(lacking)}")
    assert not missing, "public functions without annotations:\n" + "\n".join(sorted(set(missing)))
