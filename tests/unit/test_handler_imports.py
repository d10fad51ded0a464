"""The check function must start fast: importing its handler pulls none of the heavy training or plotting stacks."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("pandas", "sklearn", "codecarbon", "matplotlib", "numpy")


def test_check_handler_imports_nothing_heavy():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', r'{ROOT / 'functions' / 'check' / 'app.py'}')\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip() == ""
