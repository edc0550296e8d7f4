"""One spec per homework: adding a homework is adding its folder and its spec.

A toy homework (two problems, one dependency, one student part, one practice check)
is added to a copy of the project from a temporary folder, with no edit to the shared
code, and the real entry points take it: ./grade.sh grades it, make_handout.py writes
its starter (which grades 0 with "not implemented yet"), create_tarball.sh packs it.
The rest pins what the specs say and how a spec that contradicts itself is refused.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from autograder import specs

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".git", ".venv*", ".v", "__pycache__", ".pytest_cache",
                                "handin.tar", "tests", "bench")

TOY_SPEC = '''\
"""A toy homework: what a new homework's spec looks like."""
from autograder.specs import Homework, Part, Practice, Problem

SPEC = Homework(
    command="9",
    title="Toy homework",
    homework=9,
    problems=[
        Problem("1", "Double", 6, ("test_toy", "test_double_")),
        Problem("2", "Sextuple", 4, ("test_toy", "test_sextuple_")),
    ],
    depends_on={"2": ("1",)},
    parts=[Part("1", "hw9/toy.py", "double")],
    practice=Practice("test_toy", "test_practice_", "tripling"),
    handin=["hw9/*.py"],
    paths=["hw9"],
)
'''
TOY_TESTS = '''\
"""The toy homework's tests: plain functions, picked by the problems' prefixes."""
from autograder.helpers import check
from toy import double, triple


def test_double_values():
    for x in (0, 1, -2.5):
        check(double(x) == 2 * x, "double({!r}) should be {!r}, got {!r}".format(
            x, 2 * x, double(x)))


def test_sextuple_values():
    check(triple(double(7)) == 42, "triple(double(7)) should be 42")


def test_practice_triple():
    check(triple(2) == 6, "triple(2) should be 6")
'''
TOY_CODE = '''\
"""The toy homework's code: the student writes double()."""


def double(x):
    """Twice x."""
    return x + x


def triple(x):
    """Three times x (given)."""
    return 3 * x
'''


def run(args, cwd):
    return subprocess.run([str(a) for a in args], cwd=str(cwd), capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHON=sys.executable))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with the toy homework added from a temporary folder."""
    copy = tmp_path_factory.mktemp("toy") / "project"
    shutil.copytree(str(ROOT), str(copy), ignore=IGNORE, symlinks=True)
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    toy = tmp_path_factory.mktemp("toy_source")
    (toy / "autograder" / "hw9_autograder").mkdir(parents=True)
    (toy / "hw9").mkdir()
    (toy / "autograder" / "hw9_autograder" / "__init__.py").write_text("")
    (toy / "autograder" / "hw9_autograder" / "spec.py").write_text(TOY_SPEC)
    (toy / "autograder" / "hw9_autograder" / "test_toy.py").write_text(TOY_TESTS)
    (toy / "hw9" / "toy.py").write_text(TOY_CODE)
    shutil.copytree(str(toy), str(copy), dirs_exist_ok=True)
    after = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert all(after[path] == content for path, content in before.items())   # nothing edited
    return copy


def test_grade_sh_grades_the_toy_homework(project):
    result = run(["sh", project / "grade.sh", "9"], project.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"scores": {"1 Double": 6, "2 Sextuple": 4}}
    assert "Total score: 10/10" in lines and "Practice checks: 1/1 pass" in lines
    assert "  9    grade Toy homework (10 points)" in run(
        ["sh", project / "grade.sh", "--help"], project).stdout
    practice = run(["sh", project / "grade.sh", "9", "practice"], project)
    assert practice.returncode == 0
    assert json.loads(practice.stdout.strip().splitlines()[-1]) == {"practice": {"triple": True}}


def test_the_toy_homeworks_starter_grades_0_and_says_what_is_missing(project, tmp_path):
    result = run([sys.executable, project / "autograder" / "make_handout.py",
                  tmp_path / "starter", "--hw", "9"], project)
    assert result.returncode == 0, result.stderr
    starter = tmp_path / "starter"
    source = (starter / "hw9" / "toy.py").read_text()
    assert 'raise NotImplementedError("Problem 1 of ./grade.sh 9: implement double' in source
    assert "return 3 * x" in source                    # the given function stays
    assert "return x + x" not in source
    graded = run(["sh", starter / "grade.sh", "9"], starter)
    assert graded.returncode == 1
    lines = graded.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"scores": {"1 Double": 0, "2 Sextuple": 0}}
    assert "not implemented yet: double (Problem 1 of ./grade.sh 9)" in graded.stdout
    assert "Total score: 0/10" in lines
    readme = (starter / "README.md").read_text()
    assert "### Toy homework: `./grade.sh 9` (10 points)" in readme and "`double`" in readme
    # the earlier homeworks stay done in a later homework's starter
    assert "Total score: 100/100" in run(["sh", starter / "grade.sh", "1"], starter).stdout


def test_create_tarball_packs_the_toy_homework(project):
    (project / "hw9" / "notes.txt").write_text("mine")
    result = run(["sh", project / "create_tarball.sh", "9"], project.parent)
    assert result.returncode == 0, result.stderr
    with tarfile.open(str(project / "handin.tar")) as tar:
        assert tar.getnames() == ["hw9/toy.py"]
    assert "Left out (not part of homework 9's submission):\n  hw9/notes.txt" in result.stdout


# --------------------------------------------------------------------------- #
# What the real specs say
# --------------------------------------------------------------------------- #
def test_each_grade_sh_command_has_one_spec_and_its_grader_folder():
    commands = {}
    for spec in specs.all_specs():
        for command in (spec.command,) + spec.aliases + tuple(spec.scripts):
            assert command not in commands, command
            commands[command] = spec
        assert spec.folder.parent == ROOT / "autograder" and spec.package.endswith(
            spec.folder.name)
    assert commands["1"].title == "HW1 Part 1" and commands["b"] is commands["1b"]
    assert specs.get("1b").requires == ("1",) and specs.requirements(specs.get("1b")) == [
        specs.get("1")]


def test_one_name_per_part_in_the_bonus():
    bonus = specs.get("1b")
    assert {p.part for p in bonus.problems} == {"Adam", "Dropout", "BatchNorm"}
    assert {p.problem for p in bonus.parts} <= {p.part for p in bonus.problems}
    assert [p.number for p in bonus.problems_of_part("Adam")] == ["Adam 1", "Adam 2"]


def test_the_handin_of_homework_1_is_the_handouts():
    packed, _, _ = specs.handin_files(1)
    assert "mytorch/tensor.py" in packed and "hw1/mnist.py" in packed
    assert all(p.endswith(".py") or p == "hw1/validation_accuracy.png" for p in packed)


def spec_with(**changes):
    fields = dict(command="7", title="Broken", homework=7,
                  problems=[specs.Problem("1", "One", 5, ("test_toy", "test_one_"))])
    fields.update(changes)
    spec = specs.Homework(**fields)
    spec.folder, spec.package = ROOT / "autograder" / "hw1_autograder", "x"
    return spec


@pytest.mark.parametrize("changes, words", [
    (dict(depends_on={"1": ("4",)}), "1 depends on an unknown problem '4'"),
    (dict(depends_on={"5": ()}), "names an unknown problem '5'"),
    (dict(parts=[specs.Part("2", "hw7/x.py", "f")]), "part f (hw7/x.py) names '2'"),
    (dict(problems=[specs.Problem("1", "One", 5, ("test_nowhere", "test_"))]),
     "test_nowhere.py, which is not in the folder"),
    (dict(problems=[specs.Problem("1", "A", 1), specs.Problem("1", "B", 1)]),
     "two problems share a number"),
])
def test_a_spec_that_contradicts_itself_is_refused_with_the_entry_named(changes, words):
    with pytest.raises(specs.SpecError, match=words.replace("(", r"\(").replace(")", r"\)")):
        spec_with(**changes).validate()


def test_the_shell_scripts_ask_the_specs(tmp_path):
    for script in ("grade.sh", "create_tarball.sh"):
        text = (ROOT / script).read_text()
        assert text.startswith("#!/bin/sh") and "autograder." in text
        assert "hw1" not in text.split("set -")[1]            # no homework's path in the code
    result = run([sys.executable, "-m", "autograder.specs", "handin", "8", "packed"], ROOT)
    assert result.returncode == 2 and "unknown homework '8'" in result.stderr
    assert textwrap.dedent(run([sys.executable, "-m", "autograder.specs", "commands"],
                               ROOT).stdout).startswith("1\tgrader\t1\tHW1 Part 1")
