"""The local autograder (./grade.sh 1) grades correctly.

Correct code scores 100/100, including correct code written differently from
the library (Linear from MatMul/Transpose/Add, BatchNorm and cross-entropy from
Tensor ops).  Each typical mistake, injected into the library with monkeypatch,
zeroes exactly the problem(s) it belongs to and leaves the others full; the
runner's verdicts equal those of calling the same test functions directly, and
of pytest.  Code that raises, prints, exits or hangs costs only its problem.
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

import mytorch.nn.functional as F
from autograder import helpers
from autograder.hw1_autograder import runner, test_autograd, test_mlp
from mytorch.autograd_engine import AccumulateGrad
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.linear import Linear
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

ROOT = Path(__file__).resolve().parents[1]
GRADE = str(ROOT / "grade.sh")
FULL = {runner.key(p): p.points for p in runner.PROBLEMS}


def grade(**kwargs):
    """An in-process run: ({problem number: passed}, {number: Result}, report text)."""
    stream = io.StringIO()
    results = runner.grade(stream=stream, **kwargs)
    return ({r.problem.number: r.passed for r in results},
            {r.problem.number: r for r in results}, stream.getvalue())


def failing(passed):
    return {number for number, ok in passed.items() if not ok}


def call_tests_directly():
    """{problem number: passed}, calling each problem's test functions without the runner."""
    passed = {}
    for problem in runner.PROBLEMS:
        passed[problem.number] = True
        for _, function in runner.tests_of(problem):
            try:
                function()
            except Exception:
                passed[problem.number] = False
    return passed


# --------------------------------------------------------------------------- #
# Correct code, written in other ways a student might
# --------------------------------------------------------------------------- #
def linear_from_ops(self, x):
    return x @ self.weight.T() + self.bias


def batchnorm_from_ops(variance="centered", unbiased_running_var=True, eval_uses_batch=False):
    """BatchNorm1d.forward from Tensor ops (and the two BatchNorm mistakes, when asked)."""
    def forward(self, x):
        if self.is_train or eval_uses_batch:
            n = float(x.shape[0])
            mean = x.sum(axis=0) / Tensor(n)
            centered = x - mean
            if variance == "centered":
                var = (centered * centered).sum(axis=0) / Tensor(n)
            else:                                           # E[x^2] - E[x]^2
                var = (x * x).sum(axis=0) / Tensor(n) - mean * mean
            if self.is_train:
                m = self.momentum
                running = var.data * n / (n - 1) if unbiased_running_var else var.data
                self.running_mean.data = (1 - m) * self.running_mean.data + m * mean.data
                self.running_var.data = (1 - m) * self.running_var.data + m * running
        else:
            centered = x - Tensor(self.running_mean.data.copy())
            var = Tensor(self.running_var.data.copy())
        return self.gamma * (centered / (var + Tensor(self.eps)) ** 0.5) + self.beta
    return forward


def cross_entropy_from_ops(subtract_max=True):
    """F.cross_entropy from Tensor ops: LogSoftmax (LogSumExp trick) then NLL, averaged."""
    def cross_entropy(predicted, target):
        n, classes = predicted.shape
        labels = np.asarray(getattr(target, "data", target)).astype(int)
        x = predicted - Tensor(predicted.data.max(axis=1, keepdims=True)) \
            if subtract_max else predicted
        log_probs = x - x.exp().sum(axis=1, keepdims=True).log()
        onehot = np.zeros((n, classes))
        onehot[np.arange(n), labels] = 1.0
        return (log_probs * Tensor(onehot)).sum() * Tensor(-1.0 / n)
    return cross_entropy


ALTERNATIVES = {
    "linear as x @ W.T() + b": [(Linear, "forward", linear_from_ops)],
    "batchnorm from Tensor ops": [(BatchNorm1d, "forward", batchnorm_from_ops())],
    "batchnorm, variance as E[x^2] - E[x]^2": [(BatchNorm1d, "forward",
                                               batchnorm_from_ops("moments"))],
    "cross_entropy from Tensor ops": [(F, "cross_entropy", cross_entropy_from_ops())],
}
ALTERNATIVES["all of them together"] = (ALTERNATIVES["linear as x @ W.T() + b"]
                                        + ALTERNATIVES["batchnorm, variance as E[x^2] - E[x]^2"]
                                        + ALTERNATIVES["cross_entropy from Tensor ops"])


def test_the_library_scores_100():
    passed, _, report = grade()
    assert failing(passed) == set()
    assert runner.run(stream=io.StringIO()) == FULL
    assert "Total score: 100/100" in report.splitlines()


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_other_correct_implementations_score_100(name, monkeypatch):
    for target, attribute, value in ALTERNATIVES[name]:
        monkeypatch.setattr(target, attribute, value)
    passed, _, report = grade()
    assert failing(passed) == set(), report


# --------------------------------------------------------------------------- #
# Typical mistakes (each written against what the library's code actually uses)
# --------------------------------------------------------------------------- #
def add_without_unbroadcast(mp):
    def backward(ctx, grad_output):
        return Tensor(grad_output.data.copy()), Tensor(grad_output.data.copy())
    mp.setattr(F.Add, "backward", staticmethod(backward))


def sub_with_wrong_sign(mp):
    def backward(ctx, grad_output):               # d(a - b)/db taken as +1
        return Tensor(grad_output.data.copy()), Tensor(grad_output.data.copy())
    mp.setattr(F.Sub, "backward", staticmethod(backward))


def div_forgets_numerator(mp):
    def backward(ctx, grad_output):               # d(a / b)/db taken as -1/b**2
        (_, b), g = ctx.saved_tensors, grad_output.data
        return Tensor(g / b.data), Tensor(-g / b.data ** 2)
    mp.setattr(F.Div, "backward", staticmethod(backward))


def accumulate_grad_assigns(mp):
    def apply(self, arg):                         # = instead of +=
        grad = arg.data if isinstance(arg, Tensor) else arg
        self.variable.grad = Tensor(np.array(grad, dtype=np.float64))
    mp.setattr(AccumulateGrad, "apply", apply)


def relu_passes_every_gradient(mp):
    mp.setattr(F.ReLU, "backward",
               staticmethod(lambda ctx, grad_output: (Tensor(grad_output.data.copy()),)))


def batchnorm_biased_running_var(mp):
    original = BatchNorm1d.forward

    def forward(self, x):
        previous = self.running_var.data.copy()
        out = original(self, x)
        if self.is_train:                         # sigma^2 without the n / (n - 1)
            self.running_var.data = ((1 - self.momentum) * previous
                                     + self.momentum * x.data.var(axis=0))
        return out
    mp.setattr(BatchNorm1d, "forward", forward)


def batchnorm_eval_uses_batch_statistics(mp):
    original = BatchNorm1d.forward

    def forward(self, x):
        if self.is_train:
            return original(self, x)
        saved = self.running_mean.data.copy(), self.running_var.data.copy()
        self.is_train = True                      # normalize with the batch's own statistics
        try:
            return original(self, x)
        finally:
            self.is_train = False
            self.running_mean.data, self.running_var.data = saved
    mp.setattr(BatchNorm1d, "forward", forward)


def cross_entropy_summed(mp):
    original = F.cross_entropy
    mp.setattr(F, "cross_entropy", lambda predicted, target: original(predicted, target)
               * Tensor(float(predicted.shape[0])))


def cross_entropy_without_max(mp):
    mp.setattr(F, "cross_entropy", cross_entropy_from_ops(subtract_max=False))


def momentum_in_wrong_order(mp):
    """W moves by last step's velocity, then the velocity is updated (plain SGD stays right)."""
    def step(self):
        for param, delta in zip(self.params, self.momentums):
            if self.momentum:
                param.data = param.data + delta
                delta *= self.momentum
                delta -= self.lr * param.grad.data
            else:
                param.data = param.data - self.lr * param.grad.data
    mp.setattr(SGD, "step", step)


def momentum_lag_always(mp):
    """The same wrong order without a plain-SGD branch: breaks momentum 0 too."""
    def step(self):
        for param, delta in zip(self.params, self.momentums):
            param.data = param.data + delta
            delta *= self.momentum
            delta -= self.lr * param.grad.data
    mp.setattr(SGD, "step", step)


def sgd_replaces_parameters(mp):
    def step(self):                               # a new non-leaf Tensor, recorded in the graph
        for index, param in enumerate(self.params):
            self.params[index] = param - param.grad * Tensor(self.lr)
    mp.setattr(SGD, "step", step)


def sgd_update_recorded_in_graph(mp):
    """Right values, but the parameter becomes the output of a recorded Add."""
    def step(self):
        for param, delta in zip(self.params, self.momentums):
            delta *= self.momentum
            delta -= self.lr * param.grad.data
            updated = param + Tensor(delta.copy())
            param.data = updated.data
            param.is_leaf, param.grad_fn = updated.is_leaf, updated.grad_fn
    mp.setattr(SGD, "step", step)


ALL_MLP = {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6"}
# mistake -> (injection, problems that must fail, words the report must contain)
MISTAKES = {
    # The library's Linear is one fused Function, so only the bias-broadcast test sees Add...
    "Add.backward without unbroadcast": ([add_without_unbroadcast], {"2.1"},
                                         "gradient w.r.t. the broadcast b"),
    # ...but a student's Linear built from ops sends the bias through Add: every MLP problem.
    "Add.backward without unbroadcast, Linear from ops": (
        [add_without_unbroadcast, lambda mp: mp.setattr(Linear, "forward", linear_from_ops)],
        ALL_MLP, "shape"),
    "Sub.backward with the wrong sign": ([sub_with_wrong_sign], {"1.1.1"},
                                         "Sub.backward: gradient w.r.t. b"),
    "Div.backward w.r.t. the denominator": ([div_forgets_numerator], {"1.1.3"},
                                            "Div.backward: gradient w.r.t. b"),
    "AccumulateGrad.apply uses = not +=": ([accumulate_grad_assigns], {"1.2"},
                                           "second"),
    "ReLU.backward passes every gradient": ([relu_passes_every_gradient], {"2.2"},
                                            "through ReLU"),
    "running_var from the biased variance": ([batchnorm_biased_running_var], {"2.4"},
                                             "running_var"),
    "running_var biased, BatchNorm from ops": (
        [lambda mp: mp.setattr(BatchNorm1d, "forward",
                               batchnorm_from_ops(unbiased_running_var=False))],
        {"2.4"}, "running_var"),
    "batch statistics in eval mode": ([batchnorm_eval_uses_batch_statistics], {"2.4"},
                                      "in eval mode"),
    "batch statistics in eval mode, BatchNorm from ops": (
        [lambda mp: mp.setattr(BatchNorm1d, "forward", batchnorm_from_ops(eval_uses_batch=True))],
        {"2.4"}, "in eval mode"),
    "cross-entropy summed, not averaged": ([cross_entropy_summed], {"2.5"}, "CrossEntropyLoss"),
    "cross-entropy without the max subtraction": ([cross_entropy_without_max], {"2.5"},
                                                  "non-finite"),
    "momentum applied in the wrong order": ([momentum_in_wrong_order], {"2.6"},
                                            "after optimizer.step()"),
    "momentum lag in every update": ([momentum_lag_always], {"2.3", "2.6"},
                                     "after optimizer.step()"),
    "SGD replaces the parameters": ([sgd_replaces_parameters], {"2.3", "2.6"},
                                    "after optimizer.step()"),
    "SGD update recorded in the graph": ([sgd_update_recorded_in_graph], {"2.3", "2.6"},
                                         "is_leaf should be True"),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # exp() overflows on purpose
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_typical_mistake_zeroes_exactly_its_problems(mistake, monkeypatch):
    injections, expected, words = MISTAKES[mistake]
    for inject in injections:
        inject(monkeypatch)
    passed, _, report = grade()
    assert failing(passed) == expected, report
    scores = runner.run(stream=io.StringIO())
    for problem in runner.PROBLEMS:
        want = 0 if problem.number in expected else problem.points
        assert scores[runner.key(problem)] == want, problem
    assert "Total score: {}/100".format(
        100 - sum(p.points for p in runner.PROBLEMS if p.number in expected)) in report
    assert words in report
    assert call_tests_directly() == passed          # the runner adds no verdicts of its own


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_only_the_large_logits_catch_a_missing_max_subtraction(monkeypatch):
    cross_entropy_without_max(monkeypatch)
    _, results, _ = grade(problems=["2.5"])
    assert [name for name, _ in results["2.5"].failures] == ["test_cross_entropy_large_logits"]


# --------------------------------------------------------------------------- #
# Code that raises, prints, exits or hangs
# --------------------------------------------------------------------------- #
def test_an_exception_costs_only_its_problem_and_shows_where(monkeypatch):
    def forward(ctx, a, b):
        raise ZeroDivisionError("student's bug")
    monkeypatch.setattr(F.Div, "forward", staticmethod(forward))
    passed, _, report = grade()
    assert failing(passed) == {"1.1.3"}
    assert "ZeroDivisionError: student's bug" in report
    assert "tests/test_autograder.py:" in report and "in forward" in report   # the raising frame


def test_printing_a_lot_is_captured_and_a_correct_problem_still_passes(monkeypatch, capsys):
    original = F.Sub.forward

    def forward(ctx, a, b):
        print("debug " * 20000)
        return original(ctx, a, b)
    monkeypatch.setattr(F.Sub, "forward", staticmethod(forward))
    passed, _, report = grade()
    assert failing(passed) == set()
    assert "debug" not in report and len(report) < 3000
    assert "debug" not in capsys.readouterr().out


def test_output_of_a_failing_problem_is_shown_but_bounded(monkeypatch):
    def forward(ctx, a, b):
        for i in range(5000):
            print("line", i)
        raise ValueError("after printing")
    monkeypatch.setattr(F.Sub, "forward", staticmethod(forward))
    passed, _, report = grade()
    assert failing(passed) == {"1.1.1"}
    assert "your code printed:" in report and "| line 0" in report
    assert "| line 4999" not in report and "more characters not shown" in report
    assert len(report) < 8000


def test_a_hang_times_out_and_costs_only_its_problem(monkeypatch):
    monkeypatch.setattr(F.ReLU, "forward", staticmethod(lambda ctx, a: time.sleep(1000)))
    started = time.perf_counter()
    passed, _, report = grade(timeout=1)
    assert time.perf_counter() - started < 10
    assert failing(passed) == {"2.2"}
    assert "timed out after 1 s" in report and "time.sleep(1000)" in report


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(runner.TIMEOUT_ENV, "0.5")
    monkeypatch.setattr(F.Div, "forward", staticmethod(lambda ctx, a, b: time.sleep(1000)))
    passed, _, report = grade()
    assert failing(passed) == {"1.1.3"} and "timed out after 0.5 s" in report
    monkeypatch.setenv(runner.TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match=runner.TIMEOUT_ENV):
        grade()


def test_a_swallowed_timeout_still_fails(monkeypatch):
    original = F.Div.forward

    def forward(ctx, a, b):
        try:
            time.sleep(1000)
        except BaseException:                      # a student's catch-all
            pass
        return original(ctx, a, b)
    monkeypatch.setattr(F.Div, "forward", staticmethod(forward))
    passed, _, report = grade(timeout=0.5)
    assert failing(passed) == {"1.1.3"} and "timed out" in report


def test_exit_in_student_code_costs_only_its_problems(monkeypatch):
    monkeypatch.setattr(SGD, "step", lambda self: sys.exit(3))
    passed, _, report = grade()
    assert failing(passed) == {"2.3", "2.6"}
    assert "your code called exit(3)" in report


# --------------------------------------------------------------------------- #
# Problems, test functions and pytest
# --------------------------------------------------------------------------- #
def test_every_test_function_belongs_to_exactly_one_problem():
    for module, name in ((test_autograd, "test_autograd"), (test_mlp, "test_mlp")):
        for function in [n for n, f in vars(module).items() if n.startswith("test_")
                         and callable(f)]:
            owners = [p.number for p in runner.PROBLEMS
                      if p.module == name and function.startswith(p.prefix)]
            assert len(owners) == 1, (function, owners)
    assert all(runner.tests_of(p) for p in runner.PROBLEMS)
    assert sum(p.points for p in runner.PROBLEMS) == 100
    assert [(p.number, p.points) for p in runner.PROBLEMS] == [
        ("1.1.0", 0), ("1.1.1", 5), ("1.1.2", 5), ("1.1.3", 5), ("1.2", 25), ("2.1", 5),
        ("2.2", 10), ("2.3", 10), ("2.4", 10), ("2.5", 15), ("2.6", 10)]


def test_pytest_runs_the_same_functions_and_they_pass(tmp_path):
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--junitxml", str(report), "autograder/hw1_autograder/test_autograd.py",
         "autograder/hw1_autograder/test_mlp.py"],
        cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = ElementTree.parse(str(report)).getroot().iter("testcase")
    outcomes = {case.get("name"): [child.tag for child in case] for case in cases}
    mapped = {name for p in runner.PROBLEMS for name, _ in runner.tests_of(p)}
    assert set(outcomes) == mapped
    assert all(not children for children in outcomes.values())      # no failure, error, skip


def test_fixtures_are_small_and_match_pytorch():
    sizes = [path.stat().st_size for path in helpers.FIXTURE_DIR.glob("*.npz")]
    assert len(sizes) == 2 and sum(sizes) < 1_000_000
    pytest.importorskip("torch")
    from autograder.hw1_autograder import make_fixtures
    assert make_fixtures.check(make_fixtures.generate()) == 0


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def test_assert_close_names_the_value_shape_and_difference():
    with pytest.raises(helpers.CheckFailure) as info:
        helpers.assert_close(Tensor(np.array([1.0, 2.5, 3.0])), [1.0, 2.0, 3.0], "x.grad")
    message = str(info.value)
    assert "x.grad" in message and "(3,)" in message and "1 of 3" in message
    assert "max abs difference 0.5 at index (1,): expected 2, got 2.5" in message
    with pytest.raises(helpers.CheckFailure, match=r"shape \(2, 3\) expected, got shape \(3, 2\)"):
        helpers.assert_close(np.zeros((3, 2)), np.zeros((2, 3)), "w")
    with pytest.raises(helpers.CheckFailure, match="non-finite"):
        helpers.assert_close(np.array([np.nan, 1.0]), [0.5, 1.0], "loss")
    with pytest.raises(helpers.CheckFailure, match="got None"):
        helpers.assert_close(None, [1.0], "a.grad")
    with pytest.raises(helpers.CheckFailure, match="expected a Tensor"):
        helpers.assert_close("1.0", [1.0], "out")
    helpers.assert_close(Tensor(np.array([2.0])), 2.0, "loss", scalar=True)
    helpers.assert_close(np.array([1.0 + 1e-13]), [1.0], "tight")


def test_time_limit_and_bounded_output():
    with pytest.raises(helpers.TimeLimitExceeded):
        with helpers.time_limit(0.2):
            time.sleep(5)
    with helpers.time_limit(5) as limit:
        pass
    assert not limit.expired
    sink = helpers.BoundedOutput(limit=50, max_lines=3)
    sink.write("a\nb\nc\nd\n" + "x" * 100)
    assert sink.getvalue().startswith("a\nb\nc\n... (") and "more characters" in sink.getvalue()


# --------------------------------------------------------------------------- #
# grade.sh
# --------------------------------------------------------------------------- #
def run_script(args, cwd, **env):
    environment = dict(os.environ, **dict({"PYTHON": sys.executable}, **env))
    return subprocess.run(args, cwd=str(cwd), capture_output=True, text=True, timeout=120,
                          env=environment)


def test_grade_sh_1_from_any_directory(tmp_path):
    result = run_script(["bash", GRADE, "1"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"scores": FULL}
    for problem in runner.PROBLEMS:
        row = [line for line in lines if line.startswith(runner.key(problem) + " ")]
        assert len(row) == 1 and row[0].split()[-2:] == [
            "{0}/{0}".format(problem.points), "PASS"], row
    assert "Total score: 100/100" in lines
    assert any("100/110" in line for line in lines)


def test_grade_sh_usage_and_bad_arguments(tmp_path):
    for args in ([], ["2"], ["bogus"]):
        result = run_script(["bash", GRADE] + args, tmp_path)
        assert result.returncode != 0 and "usage: ./grade.sh 1" in result.stderr, args
    result = run_script(["bash", GRADE, "--help"], tmp_path)
    assert result.returncode == 0 and "./grade.sh m" in result.stdout
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
    assert "autograder/hw1_autograder/runner.py 2.1" in marker.read_text()


def test_grade_sh_m_passes_the_mnist_script_exit_status_through(tmp_path):
    shutil.copy(GRADE, str(tmp_path))
    (tmp_path / "autograder" / "hw1_autograder").mkdir(parents=True)
    (tmp_path / "autograder" / "hw1_autograder" / "test_mnist.py").write_text(
        "import sys\nprint('fake mnist', sys.argv[1:])\nsys.exit(3)\n")
    result = run_script(["bash", str(tmp_path / "grade.sh"), "m"], ROOT)
    assert result.returncode == 3 and "fake mnist" in result.stdout
    (tmp_path / "autograder" / "hw1_autograder" / "test_mnist.py").unlink()
    result = run_script(["bash", str(tmp_path / "grade.sh"), "m"], ROOT)
    assert result.returncode != 0 and "test_mnist.py is missing" in result.stderr


def test_grade_sh_fails_when_a_problem_fails(tmp_path):
    """A copy whose batchnorm.py does not parse: 1.x still full, 2.x all 0, exit status 1."""
    for name in ("mytorch", "autograder"):
        shutil.copytree(str(ROOT / name), str(tmp_path / name),
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(GRADE, str(tmp_path))
    with open(str(tmp_path / "mytorch" / "nn" / "batchnorm.py"), "a") as source:
        source.write("\ndef broken(:\n")
    result = run_script(["bash", str(tmp_path / "grade.sh"), "1"], ROOT)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    scores = json.loads(lines[-1])["scores"]
    assert scores == {key: (0 if key[0] == "2" else points) for key, points in FULL.items()}
    assert "Total score: 40/100" in lines
    assert "mytorch/nn/batchnorm.py:" in result.stdout and "def broken(:" in result.stdout
