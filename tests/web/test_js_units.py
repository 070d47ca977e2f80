"""The live panel's JavaScript unit tests (``web/tests/*.test.mjs``), run by node's test runner.

The panel's pure logic (event reduction, lineage layout, throttling, sparkline, formatting)
is JavaScript; this test runs ``node --test`` on it so the README's test command covers it.
Skips with the reason when node (>= 18, Debian package ``nodejs``) is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PACK_DIR = Path(__file__).resolve().parents[2]
JS_TESTS = sorted((PACK_DIR / "web" / "tests").glob("*.test.mjs"))


def node_binary() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip(
            "node is not installed: the web panel's unit tests need node >= 18 (apt-get install nodejs)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    major = int(re.match(r"v(\d+)", version.strip()).group(1))
    if major < 18:
        pytest.skip(
            f"node {version.strip()} is too old: the web panel's unit tests need node >= 18"
        )
    return node


def test_web_panel_unit_tests_pass():
    node = node_binary()
    assert len(JS_TESTS) >= 5, f"expected the panel's JS tests in web/tests/, found {JS_TESTS}"
    run = subprocess.run(
        [node, "--test", *map(str, JS_TESTS)],
        cwd=PACK_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    passed = int(re.search(r"^# pass (\d+)", output, re.M).group(1))
    failed = int(re.search(r"^# fail (\d+)", output, re.M).group(1))
    assert failed == 0 and passed >= 30, output[-3000:]
