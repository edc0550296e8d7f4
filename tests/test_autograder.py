"""The local autograder (./grade.sh 1): scores, messages, the sandbox, the command line.

The mutation catalogue (typical mistakes, each charged to its own problem) is in
test_grader_catalogue.py; practice mode in test_practice_mode.py.  Here:
correct code scores 100; the failure messages point at the fix; student code
that exits, crashes, hangs, swallows the timeout, exhausts memory, recurses or
floods the output costs only its own problem while the rest is graded; grade.sh
behaves.
"""
import io
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

from autograder import grading, helpers, isolation, specs
from autograder.hw1_autograder import runner, test_autograd, test_mlp, test_practice
from grader_harness import Edit, grade_copies, grade_copy, make_copy
from mytorch.tensor import Tensor

ROOT = Path(__file__).resolve().parents[1]
GRADE = str(ROOT / "grade.sh")
SPEC = specs.get("1")
PROBLEMS = SPEC.graded_problems
FULL = {p.key: p.points for p in PROBLEMS}
FUNCTIONAL = "mytorch/nn/functional.py"


def test_the_library_scores_100_and_passes_every_practice_check():
    stream = io.StringIO()
    run = runner.grade(stream=stream)
    report = stream.getvalue()
    assert all(r.passed for r in run.results), report
    assert {r.problem.key: r.score for r in run.results} == FULL
    assert "Total score: 100/100" in report.splitlines()
    assert run.practice is not None and all(t.status == "pass" for t in run.practice.tests)
    assert "Practice checks: {0}/{0} pass".format(len(run.practice.tests)) in report
    assert json.loads(report.strip().splitlines()[-1]) == {"scores": FULL}


def test_every_test_function_belongs_to_exactly_one_problem_or_the_practice_checks():
    for module, name in ((test_autograd, "test_autograd"), (test_mlp, "test_mlp")):
        for function in [n for n, f in vars(module).items() if n.startswith("test_")
                         and callable(f)]:
            owners = [p.number for p in PROBLEMS
                      if p.module == name and function.startswith(p.prefix)]
            assert len(owners) == 1, (function, owners)
    assert all(n.startswith("test_practice_") for n in vars(test_practice) if n.startswith("test_"))
    assert sum(p.points for p in PROBLEMS) == 100
    assert [(p.number, p.points) for p in PROBLEMS] == [
        ("1.1.0", 0), ("1.1.1", 5), ("1.1.2", 5), ("1.1.3", 5), ("1.2", 25), ("2.1", 5),
        ("2.2", 10), ("2.3", 10), ("2.4", 10), ("2.5", 15), ("2.6", 10)]


def test_the_dependency_table_is_the_handouts():
    depends_on = SPEC.depends_on
    assert set(depends_on) == {p.number for p in SPEC.problems}
    assert all(not depends_on[p] for p in ("1.1.0", "1.1.1", "1.1.2", "1.1.3", "1.2"))
    assert all(depends_on[p] == ("1.2",) for p in ("2.1", "2.2", "2.3", "2.4", "2.5"))
    assert depends_on["2.6"] == ("1.2", "2.3")
    # a whole-model test may only build on problems graded before its own
    order = [p.number for p in PROBLEMS]
    for problem in PROBLEMS:
        module = test_autograd if problem.module == "test_autograd" else test_mlp
        for name, function in vars(module).items():
            if name.startswith(problem.prefix):
                for needed in getattr(function, "builds_on", ()):
                    assert order.index(needed) < order.index(problem.number), name


def test_pytest_runs_the_same_functions_and_they_pass(tmp_path):
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--junitxml", str(report), "autograder/hw1_autograder/test_autograd.py",
         "autograder/hw1_autograder/test_mlp.py", "autograder/hw1_autograder/test_practice.py"],
        cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = ElementTree.parse(str(report)).getroot().iter("testcase")
    outcomes = {case.get("name"): [child.tag for child in case] for case in cases}
    mapped = {name for module in (test_autograd, test_mlp, test_practice)
              for name in vars(module) if name.startswith("test_")}
    assert set(outcomes) == mapped
    assert all(not children for children in outcomes.values())      # no failure, error, skip


def test_fixtures_are_small_and_match_pytorch():
    sizes = [path.stat().st_size for path in SPEC.fixtures.glob("*.npz")]
    assert len(sizes) == 2 and sum(sizes) < 1_000_000
    pytest.importorskip("torch", reason="PyTorch is the optional oracle: see the README's set-up")
    from autograder import make_fixtures
    assert make_fixtures.check(make_fixtures.generate(SPEC), SPEC.fixtures) == 0


# --------------------------------------------------------------------------- #
# Messages that point at the fix
# --------------------------------------------------------------------------- #
def failure(got, expected, name="value", **kwargs):
    with pytest.raises(helpers.CheckFailure) as info:
        helpers.assert_close(got, expected, name, **kwargs)
    return str(info.value)


def test_a_message_names_the_value_shapes_first_and_largest_difference():
    message = failure(Tensor(np.array([1.0, 2.5, 3.0, 9.0])), [1.0, 2.0, 3.0, 4.0])
    assert "value: values differ (shape (4,)); 2 of 4 elements off" in message
    assert "first differing element at index (1,): expected 2, got 2.5" in message
    assert "largest difference 5 at index (3,): expected 4, got 9" in message
    assert "pattern" not in message                      # no pattern holds for every element


def test_patterns_are_named_only_when_every_element_shows_them():
    rng = np.random.default_rng(0)
    expected = rng.normal(size=(5, 3))
    assert "the sign is flipped on every element" in failure(-expected, expected)
    assert "5 times too large everywhere: summed over the batch instead of averaged" in \
        failure(5 * expected, expected, batch=5)
    assert "5 times too small everywhere" in failure(expected / 5, expected, batch=5)
    assert "every element is 3 times the expected value" in failure(3 * expected, expected)
    square = rng.normal(size=(3, 3))
    assert "got the transpose of the expected value" in failure(square.T, square)
    other = rng.normal(size=(5, 3))
    assert "swapped" in failure(other, expected, alternatives=[("swapped", other)])
    assert "got zeros everywhere" in failure(np.zeros((5, 3)), expected)
    almost = 5 * expected
    almost[0, 0] *= 1.001                                # one element breaks the pattern
    assert "pattern" not in failure(almost, expected, batch=5)
    assert "pattern" not in failure(-expected + 1e-3, expected)


def test_shape_mismatches_say_what_went_wrong():
    assert "the transpose?" in failure(np.zeros((3, 2)), np.zeros((2, 3)))
    assert "summed back to the input's shape (unbroadcast)" in \
        failure(np.zeros((5, 3)), np.zeros(3), name="b.grad")
    assert "unbroadcast" not in failure(np.zeros((5, 3)), np.zeros(3), name="running_mean")
    # a buffer kept as (1, F) where PyTorch keeps (F,) holds the same values
    helpers.assert_close(np.ones((1, 3)), np.ones(3), "running_mean", squeeze=True)
    assert "shape (3,) expected" in failure(np.ones((3, 2)), np.ones(3), squeeze=True)
    with pytest.raises(helpers.CheckFailure, match="a.grad: got None: no gradient arrived"):
        helpers.assert_close(None, [1.0], "a.grad")
    with pytest.raises(helpers.CheckFailure, match="expected a Tensor"):
        helpers.assert_close("1.0", [1.0], "out")
    with pytest.raises(helpers.CheckFailure, match="non-finite"):
        helpers.assert_close(np.array([np.nan, 1.0]), [0.5, 1.0], "loss")
    helpers.assert_close(Tensor(np.array([2.0])), 2.0, "loss", scalar=True)
    helpers.assert_close(np.array([1.0 + 1e-13]), [1.0], "tight")


# --------------------------------------------------------------------------- #
# The sandbox: each problem in a child process
# --------------------------------------------------------------------------- #
def inject(path, anchor, code):
    """An edit that runs ``code`` (one statement, 8-space indented) just before ``anchor``."""
    return Edit(path, anchor, "        {}\n{}".format(code, anchor))


DIV_FORWARD = '        return _elementwise("Div", np.true_divide, a, b)'
MUL_BACKWARD = "        (a, b), g = ctx.saved_tensors, grad_output.data\n        return _grads(unbroadcast(g * b"
SUB_FORWARD = '        return _elementwise("Sub", np.subtract, a, b)'
RELU_FORWARD = "        ctx.mask = a.data > 0"
BN_FORWARD = '        _require_tensors("BatchNorm", x, gamma, beta, running_mean, running_var)'
XE_FORWARD = "        x = logits.data\n        shifted"
SANDBOX_CASES = {
    "os._exit(0)": ([inject(FUNCTIONAL, DIV_FORWARD, "__import__('os')._exit(0)")], {"1.1.3"},
                    "ended the Python process (exit status 0"),
    "sys.exit(3)": ([inject("mytorch/optim/sgd.py", "        for param, delta in zip(",
                            "__import__('sys').exit(3)")], {"2.3", "2.6"},
                    "your code called exit(3)"),
    "a segfault": ([inject(FUNCTIONAL, MUL_BACKWARD, "__import__('ctypes').string_at(0)")],
                   {"1.1.2"}, "crashed with a segmentation fault (SIGSEGV)"),
    "a MemoryError": ([inject(FUNCTIONAL, XE_FORWARD, "np.ones((1 << 31, 1 << 10))")], {"2.5"},
                      "MemoryError"),
    "runaway recursion": ([inject(FUNCTIONAL, SUB_FORWARD,
                                  "(lambda f: f(f))(lambda f: f(f))")], {"1.1.1"},
                          "RecursionError"),
    "a flood of prints, then an error": (
        [inject(FUNCTIONAL, BN_FORWARD, "print('spam ' * 5000 + '\\n') or print('x' * 10 ** 7) "
                                        "or 1 / 0")], {"2.4"}, "ZeroDivisionError"),
    "a hang that swallows the timeout": (
        [inject(FUNCTIONAL, RELU_FORWARD, "exec('while True:\\n try:\\n  "
                                          "__import__(\"time\").sleep(10)\\n except BaseException:"
                                          "\\n  pass')")], {"2.2"},
        "still running 2 s after the time limit"),
    "prints from correct code": ([inject(FUNCTIONAL, SUB_FORWARD, "print('debug ' * 20000)")],
                                 set(), "Total score: 100/100"),
    "a hang while importing": (
        [Edit(FUNCTIONAL, "import numpy as np\n", "import numpy as np\n__import__('time')"
                                                   ".sleep(1000)\n")],
        {p.number for p in PROBLEMS}, "importing your code took longer than 1 s"),
}


@pytest.fixture(scope="module")
def sandboxed():
    jobs = [(name, edits, "1") for name, (edits, _, _) in SANDBOX_CASES.items()]
    started = time.perf_counter()
    results = grade_copies_with_timeout(jobs, timeout=1.0)
    return results, time.perf_counter() - started


def grade_copies_with_timeout(jobs, timeout):
    previous = os.environ.get(grading.TIMEOUT_ENV)
    os.environ[grading.TIMEOUT_ENV] = str(timeout)
    try:
        return grade_copies(jobs)
    finally:
        if previous is None:
            del os.environ[grading.TIMEOUT_ENV]
        else:
            os.environ[grading.TIMEOUT_ENV] = previous


@pytest.mark.parametrize("case", sorted(SANDBOX_CASES))
def test_student_code_that_misbehaves_costs_only_its_problem(case, sandboxed):
    _, expected, words = SANDBOX_CASES[case]
    result = sandboxed[0][case]
    assert result.failing == expected, result.report
    assert words in result.report, result.report
    lines = result.report.strip().splitlines()
    assert json.loads(lines[-1])["scores"] == result.scores        # the JSON line is last
    assert len(result.report) < 12000                              # output stays bounded


def test_the_whole_misbehaving_set_is_graded_quickly(sandboxed):
    # nine gradings, two of them hangs (killed after a 1 s limit + 2 s grace, or alarmed)
    assert sandboxed[1] < 120


def test_os_exit_in_a_forward_still_prints_every_score_and_fails(tmp_path):
    project = make_copy([inject(FUNCTIONAL, DIV_FORWARD, "__import__('os')._exit(0)")], tmp_path)
    shutil.copytree(str(ROOT / "autograder"), str(project / "autograder"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(GRADE, str(project))
    result = run_script(["bash", str(project / "grade.sh"), "1"], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    scores = json.loads(lines[-1])["scores"]
    assert scores == dict(FULL, **{"1.1.3 Division": 0})
    assert "Total score: 95/100" in lines


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(grading.TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match=grading.TIMEOUT_ENV):
        runner.grade(stream=io.StringIO())
    monkeypatch.setenv(grading.TIMEOUT_ENV, "0.5")
    result = grade_copy([inject(FUNCTIONAL, DIV_FORWARD, "__import__('time').sleep(1000)")])
    assert result.failing == {"1.1.3"}
    assert "timed out after 0.5 s" in result.report and "sleep(1000)" in result.report


def test_a_stub_says_not_implemented_yet():
    result = grade_copy([Edit(FUNCTIONAL, MUL_BACKWARD, '        raise NotImplementedError('
                              '"Problem 1.1.2: implement Mul.backward (handout section 1.1.2)")\n'
                              + MUL_BACKWARD)])
    assert result.failing == {"1.1.2"}
    assert "not implemented yet: Mul.backward (Problem 1.1.2)" in result.report
    assert "Traceback" not in result.report


def test_without_fork_a_fresh_interpreter_grades_the_same(tmp_path):
    result = run_script([sys.executable, "autograder/hw1_autograder/runner.py", "1.1.1", "2.4"],
                        ROOT, AUTOGRADER_NO_FORK="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "scores": {"1.1.1 Subtraction": 5, "2.4 BatchNorm": 10}}


def test_the_sandbox_reports_how_a_child_ended():
    outcome = isolation.run(_report_then_exit, (7,), timeout=5)
    assert outcome.records == [{"value": 7}] and "exit status 0" in outcome.ending
    outcome = isolation.run(_print_a_lot, (), timeout=5)
    assert outcome.ending is None and len(outcome.output) == isolation.OUTPUT_LIMIT
    assert outcome.output_dropped == 10 ** 6 + 1 - isolation.OUTPUT_LIMIT


def _report_then_exit(report, value):
    report({"value": value})
    os._exit(0)


def _print_a_lot(report):
    print("x" * 10 ** 6)


# --------------------------------------------------------------------------- #
# grade.sh
# --------------------------------------------------------------------------- #
def run_script(args, cwd, **env):
    environment = dict(os.environ, **dict({"PYTHON": sys.executable}, **env))
    return subprocess.run(args, cwd=str(cwd), capture_output=True, text=True, timeout=180,
                          env=environment)


def test_grade_sh_1_from_any_directory(tmp_path):
    started = time.perf_counter()
    result = run_script(["bash", GRADE, "1"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"scores": FULL}
    for problem in PROBLEMS:
        row = [line for line in lines if line.startswith(problem.key + " ")]
        assert len(row) == 1 and row[0].split()[-2:] == [
            "{0}/{0}".format(problem.points), "PASS"], row
    assert "Total score: 100/100" in lines
    assert any("100/110" in line for line in lines)
    assert time.perf_counter() - started < 60


def test_grade_sh_one_problem_shows_only_it(tmp_path):
    result = run_script(["bash", GRADE, "1", "2.4"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"scores": {"2.4 BatchNorm": 10}}
    assert "Total score: 10/10 (selected problems)" in result.stdout
    assert "Practice checks" not in result.stdout


def test_grade_sh_usage_and_bad_arguments(tmp_path):
    for args in ([], ["9"], ["bogus"]):
        result = run_script(["bash", GRADE] + args, tmp_path)
        assert result.returncode == 2 and "usage: ./grade.sh COMMAND" in result.stderr, args
    result = run_script(["bash", GRADE, "--help"], tmp_path)
    assert result.returncode == 0
    for spec in specs.all_specs():                 # every command, from the specs
        assert "\n  {} ".format(spec.command) in result.stdout, spec.command
    assert "\n  m " in result.stdout
    result = run_script(["bash", GRADE, "1", "9.9"], tmp_path)
    assert result.returncode == 2 and "unknown problem '9.9'" in result.stderr


def test_grade_sh_runs_with_python_from_the_environment(tmp_path):
    marker = tmp_path / "used"
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text('#!/bin/sh\necho "$@" > "{}"\nexec "{}" "$@"\n'.format(marker,
                                                                            sys.executable))
    wrapper.chmod(0o755)
    result = run_script(["bash", GRADE, "1", "2.1"], tmp_path, PYTHON=str(wrapper))
    assert result.returncode == 0, result.stderr
    assert "-m autograder.cli 1 2.1" in marker.read_text()


def test_a_file_that_does_not_parse_costs_the_problems_that_import_it(tmp_path):
    """batchnorm.py does not parse: every 2.x test module import fails, 1.x stays full."""
    project = make_copy([Edit("mytorch/nn/batchnorm.py", "class BatchNorm1d(Module):",
                              "def broken(:\n\n\nclass BatchNorm1d(Module):")], tmp_path)
    shutil.copytree(str(ROOT / "autograder"), str(project / "autograder"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(GRADE, str(project))
    result = run_script(["bash", str(project / "grade.sh"), "1"], ROOT)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    scores = json.loads(lines[-1])["scores"]
    assert scores == {key: (0 if key[0] == "2" else points) for key, points in FULL.items()}
    assert "Total score: 40/100" in lines
    assert "mytorch/nn/batchnorm.py:" in result.stdout and "def broken(:" in result.stdout


# --------------------------------------------------------------------------- #
# Bad input to the scripts, and nothing lost
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("args, env, words", [
    (["1", "--timeout", "-1"], {}, "--timeout '-1' is not a number of seconds"),
    (["1", "--timeout", "inf"], {}, "--timeout 'inf' is not a number of seconds"),
    (["1"], {"AUTOGRADER_TIMEOUT": "inf"}, "AUTOGRADER_TIMEOUT='inf' is not a number of seconds"),
])
def test_a_bad_time_limit_is_refused_naming_where_it_came_from(tmp_path, args, env, words):
    result = run_script(["bash", GRADE] + args, tmp_path, **env)
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if "AUTOGRADER_TIMEOUT" not in env:
        assert "AUTOGRADER_TIMEOUT" not in result.stderr


@pytest.mark.parametrize("script", ["grade.sh", "create_tarball.sh"])
def test_windows_line_endings_get_a_hint_not_a_shell_error(tmp_path, script):
    crlf = tmp_path / script
    crlf.write_bytes((ROOT / script).read_bytes().replace(b"\n", b"\r\n"))
    for shell in ("sh", "bash"):
        result = run_script([shell, str(crlf), "1"], tmp_path)
        assert result.returncode == 2, result.stderr
        assert "Windows line endings" in result.stderr and "dos2unix " + script in \
            result.stderr, result.stderr
        assert "Illegal option" not in result.stderr and "set:" not in result.stderr


def test_code_that_deletes_files_in_its_folder_cannot_touch_the_checkout(tmp_path):
    """Grading runs the student's code in a scratch folder: relative paths land there."""
    project = make_copy([inject(FUNCTIONAL, SUB_FORWARD,
                                "[__import__('os').remove(f) for f in __import__('os')"
                                ".listdir('.') if __import__('os').path.isfile(f)]")], tmp_path)
    shutil.copytree(str(ROOT / "autograder"), str(project / "autograder"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("grade.sh", "README.md", "requirements.txt", "sandbox.py"):
        shutil.copy(str(ROOT / name), str(project / name))
    result = run_script(["bash", str(project / "grade.sh"), "1", "1.1.1"], project)
    assert "Total score: 5/5" in result.stdout, result.stdout + result.stderr
    for name in ("grade.sh", "README.md", "requirements.txt", "sandbox.py"):
        assert (project / name).exists(), name


def test_a_failing_practice_check_shows_the_students_line():
    """The traceback of a practice check runs down to the line in the student's code."""
    sum_backward = "        g = grad_output.data\n        if ctx.axis is not None and not ctx.keepdims:"
    result = grade_copy([Edit(FUNCTIONAL, sum_backward, "        g = grad_output.data\n"
                              "        raise ValueError('a bug in Sum.backward')\n"
                              "        if ctx.axis is not None and not ctx.keepdims:")])
    practice = result.report.split("\nPractice checks (0 points")[1].split("\nPractice checks:")[0]
    assert "ValueError: a bug in Sum.backward" in practice
    assert "mytorch/nn/functional.py" in practice and \
        "raise ValueError('a bug in Sum.backward')" in practice, practice


def test_an_endless_loop_in_the_engine_costs_one_time_limit_not_one_per_problem():
    """The problems that use a timed-out problem's code are not graded (and say why), so a
    full run with one endless loop takes about one time limit."""
    engine_loop = Edit("mytorch/autograd_engine.py", "    for node in _topological_order(grad_fn):\n",
                       "    while True:\n        pending = dict(pending)\n"
                       "    for node in _topological_order(grad_fn):\n")
    previous = os.environ.get(grading.TIMEOUT_ENV)
    os.environ[grading.TIMEOUT_ENV] = "5"      # (the import of the code must fit in it too)
    try:
        started = time.perf_counter()
        result = grade_copy([engine_loop])
        seconds = time.perf_counter() - started
    finally:
        if previous is None:
            del os.environ[grading.TIMEOUT_ENV]
        else:
            os.environ[grading.TIMEOUT_ENV] = previous
    assert result.failing == {"1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"}, result.report
    assert "timed out after 5 s" in result.report
    running = result.report.split("it was running:")[1].split("\n  test_")[0]
    assert "mytorch/autograd_engine.py" in running             # the looping line is shown:
    assert "while True:" in running or "pending = dict(pending)" in running   # either of the two
    block = result.report.split("\nFAIL 2.4 ")[1].split("\nFAIL ")[0]
    assert "not graded: it uses the code of 1.2, which ran out of time" in block
    assert result.report.count("timed out after") == 1
    assert seconds < 30                        # one limit (and the grace), not seven (49 s)


def _failing_result(number, culprit):
    result = grading.ProblemResult(SPEC.problem(number))
    test = grading.TestResult("test_x")
    test.status, test.lines, test.culprit = "error", ["ValueError: boom"], culprit
    result.tests = [test]
    return result


def test_two_problems_that_raise_inside_each_other_blame_neither():
    """2.1 raised inside 2.4's code and 2.4 inside 2.1's: no evidence either way, so no
    "fails inside" note names the other (whichever comes first)."""
    for order in ((0, 1), (1, 0)):
        pair = [_failing_result("2.1", ("1", "2.4", "BatchNorm.forward")),
                _failing_result("2.4", ("1", "2.1", "Linear.forward"))]
        results = [pair[i] for i in order]
        grading.resolve(SPEC, results)
        for result in results:
            assert not any("fails inside" in note for note in result.notes), result.notes
    lone = _failing_result("2.4", ("1", "2.1", "Linear.forward"))
    other = _failing_result("2.1", None)
    grading.resolve(SPEC, [other, lone])
    assert "2.4 fails inside your Linear: see 2.1" in lone.notes
