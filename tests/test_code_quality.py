"""The style rules we hold ourselves to, enforced where CI runs them: ruff and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_ruff_finds_nothing_in_the_package_tests_and_bench() -> None:
    result = _run(str(BIN / "ruff"), "check", "server", "tests", "bench")

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_ruff_formatted() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", "server", "tests", "bench")

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_the_package() -> None:
    result = _run(str(BIN / "mypy"))

    assert result.returncode == 0, result.stdout + result.stderr
