"""The detector catalog: one module per family of failures, each with metadata and a pure
`detect(snapshot) -> list[Finding]`. Modules are found by walking this package, so adding a
detector is one file plus its test (tests/detectors/test_detectors.py checks the catalog)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

REQUIRED = ("ID", "TITLE", "detect")


def load_detectors() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        missing = [attr for attr in REQUIRED if not hasattr(mod, attr)]
        if missing:
            raise RuntimeError(f"detector {info.name} lacks {', '.join(missing)}")
        mods.append(mod)
    return sorted(mods, key=lambda m: m.ID)
