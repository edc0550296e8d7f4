"""sandbox.py runs the handout's worked example (section 0.1) and prints its results."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NUMBER = r"tensor\(\s*{}(?:\.0*)?\s*[,)]"          # tensor(9.) / tensor(9.0) / tensor(9, ...


@pytest.fixture(scope="module")
def sandbox_run():
    return subprocess.run([sys.executable, str(ROOT / "sandbox.py")], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)


def test_sandbox_exits_cleanly(sandbox_run):
    assert sandbox_run.returncode == 0, sandbox_run.stderr


@pytest.mark.parametrize("name, pattern", [
    ("e", NUMBER.format(9)),
    (r"a\.grad", NUMBER.format(3)),
    (r"b\.grad", r"None\b"),
    (r"c\.grad", NUMBER.format(1)),
])
def test_sandbox_prints_worked_example_result(sandbox_run, name, pattern):
    line = re.compile(r"^{}\s*=\s*{}".format(name, pattern), re.MULTILINE)
    assert line.search(sandbox_run.stdout), sandbox_run.stdout
