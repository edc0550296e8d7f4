"""sandbox.py runs the handout's worked example (section 0.1), prints its results and its graph,
and draws the graph."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NUMBER = r"tensor\(\s*{}(?:\.0*)?\s*[,)]"          # tensor(9.) / tensor(9.0) / tensor(9, ...
PICTURE = ROOT / "worked_example.png"


@pytest.fixture(scope="module")
def sandbox_run():
    if PICTURE.exists():
        PICTURE.unlink()             # so that the picture test sees this run's
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


def test_sandbox_prints_the_worked_examples_graph_as_a_tree(sandbox_run):
    tree = ("Add e ()\n"
            "+-- Add ()\n"
            "|   +-- Add d ()\n"
            "|   |   +-- Mul ()\n"
            "|   |   |   +-- AccumulateGrad a ()  grad norm 3  #1\n"
            "|   |   |   `-- None\n"
            "|   |   `-- AccumulateGrad a ()  grad norm 3  (#1, above)\n"
            "|   `-- AccumulateGrad c ()  grad norm 1\n"
            "`-- None\n")
    assert tree in sandbox_run.stdout, sandbox_run.stdout


def test_sandbox_draws_the_worked_example_next_to_itself(sandbox_run):
    pytest.importorskip("matplotlib", reason="the picture needs matplotlib; the sandbox does not")
    assert "Drew it to worked_example.png" in sandbox_run.stdout
    assert PICTURE.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
