"""Practice mode for homework 2: ``make_handout.py DIR --hw 2`` stubs HW2's parts and the bonus's.

The starter grades 0/95 (and the bonus 0/25) with "not implemented yet" messages while
HW1 stays done (100/100); putting one problem's reference bodies back (with the
problems it needs) scores exactly that problem; stubbing one problem's parts in the full
solution costs exactly that problem and those that depend on it.  The library's Conv2d
and pooling run on HW2's window helpers (1.1.1's and 1.1.2's parts), so a bonus part is
restored together with them.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import specs
from autograder.make_handout import stubbed_parts, write_handout
from grader_harness import grade_copies, stub_keys

ROOT = Path(__file__).resolve().parents[1]
SPEC, BONUS = specs.get("2"), specs.get("2b")
SCORED = [p.number for p in SPEC.graded_problems]
BONUS_PARTS = ["Conv2d", "MaxPool2d", "AvgPool2d"]
SHARED = ["1.1.1", "1.1.2"]          # the window helpers the bonus's reference runs on
HW2_PARTS = [(spec, part) for spec in specs.of_homework(2) for part in spec.parts]


def dependents(spec, problem):
    """``problem`` and every problem of ``spec`` whose tests may run its code."""
    return {p.number for p in spec.graded_problems if problem in spec.closure([p.number])}


@pytest.fixture(scope="module")
def graded():
    jobs = [("restore " + p, [], "2", stub_keys(stubbed_parts(2, keep=[p]))) for p in SCORED]
    jobs += [("stub " + p, [], "2", [("2", p)]) for p in SCORED]
    jobs += [("restore " + p, [], "2b", stub_keys(stubbed_parts(2, keep=[p] + SHARED)))
             for p in BONUS_PARTS]
    jobs += [("stub " + p, [], "2b", [("2b", p)]) for p in BONUS_PARTS]
    return grade_copies(jobs)


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    return write_handout(tmp_path_factory.mktemp("practice") / "hw2p1", homework=2)


def run(args, cwd):
    return subprocess.run([str(a) for a in args], cwd=str(cwd), capture_output=True,
                          text=True, timeout=180, env=dict(os.environ, PYTHON=sys.executable))


def blocks(report):
    """{Autolab key: the lines of its FAIL block}."""
    found = {}
    for block in report.split("\nFAIL ")[1:]:
        key = block.split(" (")[0]
        found[key] = block.split("\nProblem ")[0]
    return found


# --------------------------------------------------------------------------- #
# The starter
# --------------------------------------------------------------------------- #
def test_the_hw2_starter_grades_0_and_says_what_is_not_implemented(starter):
    for spec, total in ((SPEC, 95), (BONUS, 25)):
        result = run(["sh", starter / "grade.sh", spec.command], starter)
        assert result.returncode == 1, result.stderr
        report = result.stdout
        assert "Total score: 0/{}".format(total) in report, report
        assert "Traceback" not in report + result.stderr
        assert set(json.loads(report.strip().splitlines()[-1])["scores"].values()) == {0}
        failing = blocks(report)
        assert set(failing) == {p.key for p in spec.graded_problems}
        for key, block in failing.items():
            assert "not implemented yet:" in block, (key, block)
    assert "not implemented yet: Conv1d.backward (Problem 1.1.2 of ./grade.sh 2; see " \
        "docs/hw2p1.md#conv1d-backward)" in run(
        ["sh", starter / "grade.sh", "2", "1.1.2"], starter).stdout


def test_hw1_stays_done_in_the_hw2_starter(starter):
    assert "Total score: 100/100" in run(["sh", starter / "grade.sh", "1"], starter).stdout
    assert "Total score: 25/25" in run(["sh", starter / "grade.sh", "1b"], starter).stdout


def test_the_given_code_still_works_in_the_starter(starter):
    """The layers (given) build, hw2's modules import, and bad input still gets its message."""
    script = ("import sys; sys.path.insert(0, 'hw2')\n"
              "from mytorch.nn.conv import Conv1d, Conv2d, MaxPool2d, Flatten\n"
              "from mytorch.tensor import Tensor\n"
              "import mlp_scan, hw2, mnist_cnn\n"
              "conv = Conv1d(24, 56, 5); print(conv.weight.shape, Conv2d(1, 8, 5).weight.shape)\n"
              "try:\n    conv(Tensor.zeros(100, 60))\n"
              "except ValueError as error:\n    print(error)\n")
    result = run([sys.executable, "-c", script], starter)
    assert result.returncode == 0, result.stderr
    assert "(56, 24, 5) (8, 1, 5, 5)" in result.stdout
    assert "expects an input of shape (N, 24, W), got (100, 60)" in result.stdout


def test_every_hw2_part_is_a_stub_and_the_rest_is_the_reference(starter):
    listed = {(p.path, p.qualname) for _, p in specs.all_parts()}
    for spec, part in HW2_PARTS:
        node = specs.functions_in(str(starter / part.path))[part.qualname]
        reference = specs.functions_in(str(ROOT / part.path))[part.qualname]
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        assert len(body) == part.keep + 1, part
        assert ast.unparse(body[-1]) == "raise NotImplementedError({!r})".format(
            spec.stub_message(part)), part
        given = reference.body[1:] if ast.get_docstring(reference) else reference.body
        assert [ast.dump(s) for s in body[:-1]] == [ast.dump(s) for s in given[:part.keep]]
    for path in {p.path for _, p in HW2_PARTS}:
        mine, theirs = specs.functions_in(str(starter / path)), specs.functions_in(
            str(ROOT / path))
        for qualname in mine:
            if (path, qualname) not in listed:
                assert ast.dump(mine[qualname]) == ast.dump(theirs[qualname]), qualname
    assert {(p.qualname, p.keep) for _, p in HW2_PARTS if p.keep} == {
        ("Conv1d.forward", 3), ("Conv2d.forward", 3), ("MaxPool2d.forward", 2),
        ("AvgPool2d.forward", 2)}
    readme = (starter / "README.md").read_text()
    assert "./grade.sh 2 1.1.1" in readme and "### HW2 bonus: `./grade.sh 2b` (25 points)" in readme
    for _, part in HW2_PARTS:
        assert "`{}`".format(part.qualname) in readme


def test_the_spec_lists_issue_18s_parts():
    owned = {(p.problem, p.qualname) for p in SPEC.parts}
    assert {("1.1.1", "get_conv1d_output_size"), ("1.1.1", "Conv1d.forward"),
            ("1.1.2", "Conv1d.backward"), ("1.2", "Flatten.forward"),
            ("2.1", "CNN_SimpleScanningMLP.__init__"),
            ("2.1", "CNN_SimpleScanningMLP.init_weights"),
            ("2.2", "CNN_DistributedScanningMLP.__init__"),
            ("2.2", "CNN_DistributedScanningMLP.init_weights"), ("3", "CNN.__init__"),
            ("3", "get_final_conv_output_size")} <= owned
    given = {"Conv1d.__init__", "_ConvNd.__init__", "_ConvNd.forward", "_Pool2d.forward",
             "_check_conv", "_check_windows", "CNN.forward", "_ScanningCNN.forward"}
    assert not given & {p.qualname for _, p in HW2_PARTS}
    assert {p.problem for p in BONUS.parts} == set(BONUS_PARTS)


# --------------------------------------------------------------------------- #
# Progress and isolation, for every problem
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("problem", SCORED)
def test_restoring_one_problem_scores_exactly_its_points(problem, graded):
    result = graded["restore " + problem]
    restored = SPEC.closure([problem])
    assert result.failing == set(SCORED) - restored, result.report
    total = sum(p.points for p in SPEC.graded_problems if p.number in restored)
    assert "Total score: {}/95".format(total) in result.report


@pytest.mark.parametrize("problem", SCORED)
def test_stubbing_one_problem_costs_exactly_it_and_its_dependents(problem, graded):
    result = graded["stub " + problem]
    assert result.failing == dependents(SPEC, problem), result.report
    assert "not implemented yet" in result.report


@pytest.mark.parametrize("part", BONUS_PARTS)
def test_restoring_one_bonus_part_scores_exactly_its_tests(part, graded):
    result = graded["restore " + part]
    mine = {p.number for p in BONUS.problems_of_part(part)}
    assert result.failing == {p.number for p in BONUS.graded_problems} - mine, result.report


@pytest.mark.parametrize("part", BONUS_PARTS)
def test_stubbing_one_bonus_part_costs_exactly_its_tests_and_the_cnn(part, graded):
    result = graded["stub " + part]
    assert result.failing == {p.number for p in BONUS.problems_of_part(part)} | {"CNN"}, \
        result.report
    assert "not implemented yet" in result.report
