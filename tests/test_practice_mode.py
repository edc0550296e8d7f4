"""Practice mode: autograder/make_handout.py writes the homework with the student's parts stubbed.

The starter grades 0/100 with "not implemented yet" messages; putting one
problem's reference bodies back (with the problems it needs) scores exactly
that problem; and stubbing one problem's parts in the full solution costs
exactly that problem and those that depend on it, for every problem: the
strongest test of the grader's "one mistake costs its own problem".
"""
import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import specs
from autograder.make_handout import stub_source, stub_tree, stubbed_parts, write_handout
from grader_harness import grade_copies, make_copy, stub_keys

ROOT = Path(__file__).resolve().parents[1]
SPEC, BONUS = specs.get("1"), specs.get("1b")
SCORED = [p.number for p in SPEC.graded_problems if p.points]
HW1_PARTS = [(spec, part) for spec in specs.of_homework(1) for part in spec.parts]


def dependents(problem):
    """``problem`` and every problem whose tests may run its code (the dependency table)."""
    return {p for p in SCORED if problem in SPEC.closure([p])}


@pytest.fixture(scope="module")
def graded():
    jobs = [("restore " + p, [], "1", stub_keys(stubbed_parts(1, keep=[p]))) for p in SCORED]
    jobs += [("stub " + p, [], "1", [("1", p)]) for p in SCORED + ["3"]]
    jobs += [("stub " + p, [], "1", [("1b", p)]) for p in ("Adam", "Dropout")]
    return grade_copies(jobs)


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    return write_handout(tmp_path_factory.mktemp("practice") / "hw1p1")


def run(args, cwd):
    return subprocess.run(args, cwd=str(cwd), capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, PYTHON=sys.executable))


# --------------------------------------------------------------------------- #
# The starter
# --------------------------------------------------------------------------- #
def test_the_starter_grades_0_and_every_problem_says_what_is_not_implemented(starter):
    result = run(["bash", str(starter / "grade.sh"), "1"], starter)
    assert result.returncode == 1, result.stderr
    report = result.stdout
    assert "Total score: 0/100" in report and "Traceback" not in report + result.stderr
    scores = json.loads(report.strip().splitlines()[-1])["scores"]
    assert all(score == 0 for score in scores.values())
    for problem in SPEC.graded_problems:
        if problem.points:
            block = report.split("FAIL {} {}".format(problem.number, problem.name))[1]
            block = block.split("\nFAIL ")[0].split("\nPractice checks")[0]
            assert "not implemented yet:" in block, problem.number
    practice = report.split("Practice checks (0 points")[1]
    assert "not implemented yet: Tensor.__matmul__ (Problem 2.1; see docs/hw1p1.md#linear)" \
        in practice
    assert "Practice checks: 2/14 pass" in practice           # the given Log, Transpose/Reshape


def test_the_starters_mnist_and_bonus_say_not_implemented(starter):
    result = run(["bash", str(starter / "grade.sh"), "m"], starter)
    assert result.returncode == 1
    assert "mnist() is not implemented yet" in result.stderr and "Traceback" not in result.stderr
    result = run(["bash", str(starter / "grade.sh"), "1b"], starter)
    assert result.returncode == 1 and "Total score: 0/25" in result.stdout
    result = run([sys.executable, "sandbox.py"], starter)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "Not run yet (practice mode" in result.stdout
    assert "the worked example: needs Problem 1.1.2" in result.stdout


def test_the_starter_is_the_handouts_layout_with_its_own_readme(starter):
    for name in ("mytorch/tensor.py", "mytorch/autograd_engine.py", "mytorch/nn/functional.py",
                 "hw1/mnist.py", "autograder/hw1_autograder/runner.py", "data/train_data.npy",
                 "grade.sh", "create_tarball.sh", "sandbox.py", "requirements.txt"):
        assert (starter / name).exists(), name
    assert not (starter / "tests").exists() and not (starter / "bench").exists()
    readme = (starter / "README.md").read_text()
    assert "## What to do next" in readme and "./grade.sh 1 1.1.1" in readme
    for _, part in HW1_PARTS:
        assert "`{}`".format(part.qualname) in readme
    with pytest.raises(FileExistsError, match="not empty"):
        write_handout(starter)                               # never overwrites a student's work


def test_every_listed_body_is_a_stub_and_the_rest_is_the_reference(starter):
    for spec, part in HW1_PARTS:
        source = (starter / part.path).read_text()
        if part.helper:                          # the reference's own helpers: left out
            assert part.qualname not in specs.functions_in(str(starter / part.path)), part
            continue
        node = specs.functions_in(str(starter / part.path))[part.qualname]
        reference = specs.functions_in(str(ROOT / part.path))[part.qualname]
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        assert len(body) == part.keep + 1, part
        assert ast.unparse(body[-1]) == "raise NotImplementedError({!r})".format(
            spec.stub_message(part)), part
        assert ast.get_docstring(node) == ast.get_docstring(reference), part
        assert [ast.dump(s) for s in body[:-1]] == \
            [ast.dump(s) for s in (reference.body[1:] if ast.get_docstring(reference)
                                   else reference.body)[:part.keep]], part
        assert part.qualname.split(".")[-1] in source
    listed = {(p.path, p.qualname) for _, p in specs.all_parts()}
    for path in {p.path for _, p in HW1_PARTS}:
        mine, theirs = specs.functions_in(str(starter / path)), \
            specs.functions_in(str(ROOT / path))
        helpers = {p.qualname for _, p in specs.all_parts() if p.helper and p.path == path}
        assert set(mine) == set(theirs) - helpers
        for qualname in mine:
            if (path, qualname) not in listed:              # everything unlisted is whole
                assert ast.dump(mine[qualname]) == ast.dump(theirs[qualname]), qualname


def test_the_rewrite_keeps_comments_docstrings_and_formatting():
    source = textwrap.dedent('''\
        import numpy as np   # a comment that stays


        class Op:
            """An op."""

            @staticmethod
            def forward(ctx, a):
                """Forward: keep me."""
                # a comment above the body stays
                ctx.a = a
                return a * 2      # so does this one

            def other(self):      # untouched
                return  1    # odd spacing survives


        def helper(x):
            first = x + 1
            return first * 3
        ''')
    parts = [(specs.Part("9.9", "p.py", "Op.forward", 0), "stubbed"),
             (specs.Part("9.9", "p.py", "helper", 1), "stubbed")]
    result = stub_source(source, parts)
    assert "import numpy as np   # a comment that stays" in result
    assert '"""Forward: keep me."""' in result and "# a comment above the body stays" in result
    assert "so does this one" not in result and "ctx.a = a" not in result
    assert "    def other(self):      # untouched\n        return  1    # odd spacing " \
        "survives" in result
    assert "    first = x + 1\n    raise NotImplementedError(" in result
    assert "return first * 3" not in result
    compile(result, "p.py", "exec")
    with pytest.raises(ValueError, match="no function Op.backward"):
        stub_source(source, [(specs.Part("9.9", "p.py", "Op.backward", 0), "stubbed")])


# --------------------------------------------------------------------------- #
# Progress and isolation, for every problem
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("problem", SCORED)
def test_restoring_one_problem_scores_exactly_its_points(problem, graded):
    result = graded["restore " + problem]
    restored = SPEC.closure([problem])
    assert result.failing == set(SCORED) - restored, result.report
    for key, score in result.scores.items():
        number = key.split()[0]
        points = SPEC.problem(number).points
        assert score == (points if number in restored else 0), key


@pytest.mark.parametrize("problem", SCORED + ["3", "Adam", "Dropout"])
def test_stubbing_one_problem_costs_exactly_it_and_its_dependents(problem, graded):
    result = graded["stub " + problem]
    expected = dependents(problem) if problem in SCORED else set()
    assert result.failing == expected, result.report
    if expected:
        assert "not implemented yet" in result.report


def test_the_spec_lists_the_handouts_parts():
    assert {p.problem for p in SPEC.parts} == set(SCORED) | {"3"}
    assert {p.problem for p in BONUS.parts} == {"Adam", "Dropout"}
    owned = [(p.path, p.qualname) for _, p in specs.all_parts()]
    assert len(owned) == len(set(owned))                     # each function has one owner
    given = {"Add.forward", "Add.backward", "Transpose.forward", "Log.backward",
             "Reshape.forward", "ContextManager.save_for_backward", "AccumulateGrad.apply",
             "CrossEntropyLoss.forward", "Tensor.__add__", "Tensor.T", "Tensor.__init__"}
    assert not given & {p.qualname for _, p in HW1_PARTS}
    assert {(p.qualname, p.keep) for _, p in HW1_PARTS if p.keep} == {
        ("Function.apply", 2), ("unbroadcast", 1)}


def test_stubbing_the_real_sources_leaves_files_that_parse(tmp_path):
    root = make_copy([], tmp_path)
    stub_tree(root, specs.all_parts())
    for path in {p.path for _, p in specs.all_parts()}:
        compile((root / path).read_text(), path, "exec")


@pytest.mark.parametrize("target, words", [
    (ROOT / "mytorch" / "starter", "is inside this project"),
    (ROOT / "README.md", "is inside this project"),
])
def test_a_starter_is_never_written_inside_the_project(target, words):
    result = run([sys.executable, "autograder/make_handout.py", str(target)], ROOT)
    assert result.returncode == 1 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (ROOT / "mytorch" / "starter").exists()


def test_a_file_or_an_unwritable_folder_is_refused_clearly(tmp_path, monkeypatch):
    from autograder import make_handout
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(ValueError, match="is a file: choose a new folder"):
        make_handout.write_handout(a_file)
    monkeypatch.setattr(make_handout.os, "access", lambda path, mode: False)
    with pytest.raises(ValueError, match="is not a folder you can write to"):
        make_handout.write_handout(tmp_path / "new" / "starter")


def test_the_starter_leaves_out_the_references_helpers_that_nothing_grades(starter):
    """The handout asks for Function.apply, backward() and Tensor.backward: the engine's
    helpers are the reference's own way, so a starter does not ask for them."""
    engine = (starter / "mytorch" / "autograd_engine.py").read_text()
    for helper in ("_node_of", "_topological_order", "_one_per_input", "_gradient_array"):
        assert "def {}(".format(helper) not in engine, helper
    assert "def backward(grad_fn, grad_of_outputs" in engine
    compile(engine, "autograd_engine.py", "exec")


def test_keep_brings_what_a_kept_part_needs(tmp_path):
    """--keep 3: ./grade.sh m trains; --keep Adam: the bonus's Adam tests pass (the bonus
    builds on HW1, which comes with it)."""
    mnist = write_handout(tmp_path / "keep3", keep=["3"])
    result = run(["bash", str(mnist / "grade.sh"), "m"], mnist)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Final validation accuracy" in result.stdout
    adam = write_handout(tmp_path / "keepadam", keep=["Adam"])
    result = run(["bash", str(adam / "grade.sh"), "1b"], adam)
    scores = json.loads(result.stdout.strip().splitlines()[-1])["scores"]
    assert scores["Linear Adam"] == 1 and scores["Big Linear ReLU XELoss Adam"] == 4, result.stdout
    assert scores["Linear ReLU Dropout"] == 0


def test_sandbox_in_a_starter_runs_what_it_can_and_names_what_waits(tmp_path):
    """After 1.1 and 1.2 the worked example and its graph run; the layer's gradcheck waits
    for 2.1, and the script still ends well."""
    starter = write_handout(tmp_path / "after12", keep=["1.1.1", "1.1.2", "1.1.3", "1.2"])
    result = run([sys.executable, "sandbox.py"], starter)
    assert result.returncode == 0, result.stderr
    assert "a.grad =" in result.stdout and "The graph of e" in result.stdout
    assert "gradcheck of a layer: needs Problem 2.1" in result.stdout
