"""./grade.sh 1b: the bonus grader scores the library 25/25 and catches typical mistakes.

Each mistake is an edit of the reference source on a scratch copy, graded by the
real bonus runner.  The test pins which bonus tests it costs.  Adam mistakes also
cost the big Dropout model, which trains with Adam (the one place where the
isolation rule bends), and its report says so.
"""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import grading, specs
from grader_harness import Edit, Mistake, grade_copies

ROOT = Path(__file__).resolve().parents[1]
ADAM = "mytorch/optim/adam.py"
FUNCTIONAL = "mytorch/nn/functional.py"
DROPOUT = "mytorch/nn/dropout.py"
BATCHNORM = "mytorch/nn/batchnorm.py"
ALL_ADAM = {"Adam 1", "Adam 2", "Dropout 3"}
SPEC = specs.get("1b")
FULL = {p.key: p.points for p in SPEC.graded_problems}


def edit(path, old, new):
    return Edit(path, old, new)


MISTAKES = [
    Mistake("Adam without bias correction", "Adam 1",
            [edit(ADAM, "denominator = np.sqrt(v) / math.sqrt(1 - beta2 ** t)",
                  "denominator = np.sqrt(v) / 1.0"),
             edit(ADAM, "param.data -= (lr / (1 - beta1 ** t)) * m / denominator",
                  "param.data -= lr * m / denominator")],
            ALL_ADAM, words="pattern: no bias correction"),
    Mistake("Adam corrects the wrong moment", "Adam 1",
            [edit(ADAM, "denominator = np.sqrt(v) / math.sqrt(1 - beta2 ** t)",
                  "denominator = np.sqrt(v) / math.sqrt(1 - beta1 ** t)"),
             edit(ADAM, "param.data -= (lr / (1 - beta1 ** t)) * m / denominator",
                  "param.data -= (lr / (1 - beta2 ** t)) * m / denominator")],
            ALL_ADAM, words="Dropout 3 fails inside your Adam.step: see Adam 1"),
    # (with the default eps = 1e-8 the difference hides in the tolerance: the big model's
    # Adam uses eps = 1e-3, where it shows)
    Mistake("Adam with eps inside the square root", "Adam 2",
            [edit(ADAM, "denominator = np.sqrt(v) / math.sqrt(1 - beta2 ** t)\n"
                  "            denominator += eps",
                  "denominator = np.sqrt(v / (1 - beta2 ** t) + eps)")],
            {"Adam 2", "Dropout 3"}, words="after Adam's step"),
    Mistake("Adam's second moment from |g| instead of g**2", "Adam 1",
            [edit(ADAM, "v += (1 - beta2) * (grad * grad)", "v += (1 - beta2) * abs(grad)")],
            ALL_ADAM, words="after Adam's step"),
    Mistake("Adam's step count never grows", "Adam 1",
            [edit(ADAM, "self.step_counts[i] += 1", "self.step_counts[i] = 1")],
            ALL_ADAM, words="after Adam's step 2"),
    Mistake("Adam keeps beta1 under another name", "Adam 1",
            [edit(ADAM, "self.betas = (beta1, beta2)", "self.beta1, self.beta2 = beta1, beta2"),
             edit(ADAM, "beta1, beta2 = self.betas", "beta1, beta2 = self.beta1, self.beta2")],
            ALL_ADAM, words="should keep lr, betas and eps as attributes"),
    Mistake("Dropout mask redrawn in backward", "Dropout 2",
            [edit(FUNCTIONAL, "        return _grads(g if ctx.mask is None else g * ctx.mask, "
                  "None, None)", "        return _grads(g if ctx.mask is None else g * "
                  "np.random.binomial(1, 0.5, size=g.shape) * 2.0, None, None)")],
            {"Dropout 2", "Dropout 3"}, words=".grad: values differ"),
    Mistake("Dropout without the 1/(1-p) scaling", "Dropout 1",
            [edit(FUNCTIONAL, "ctx.mask = keep * (1.0 / (1 - p) if p < 1 else 0.0)",
                  "ctx.mask = keep * 1.0")],
            {"Dropout 1", "Dropout 2", "Dropout 3"}, words="model output"),
    Mistake("Dropout keeps with probability p", "Dropout 1",
            [edit(FUNCTIONAL, "keep = np.random.binomial(1, 1 - p, size=x.shape)",
                  "keep = np.random.binomial(1, p, size=x.shape)")],
            {"Dropout 1", "Dropout 2", "Dropout 3"}, words="model output"),
    Mistake("Dropout draws its mask another way", "Dropout 1",
            [edit(FUNCTIONAL, "keep = np.random.binomial(1, 1 - p, size=x.shape)",
                  "keep = np.random.rand(*x.shape) >= p")],
            {"Dropout 1", "Dropout 2", "Dropout 3"}, words="model output"),
    Mistake("Dropout drops in eval mode", "Dropout 1",
            [edit(DROPOUT, "return F.Dropout.apply(x, self.p, self.is_train)",
                  "return F.Dropout.apply(x, self.p, True)"),
             edit(DROPOUT, "        if self.is_train:\n", "        if True:\n")],
            {"Dropout 1", "Dropout 3"}, words="eval mode"),
    Mistake("Dropout scales in eval mode", "Dropout 1",
            [edit(DROPOUT, "        return x\n", "        return x * (1.0 / (1 - self.p))\n")],
            {"Dropout 1", "Dropout 3"}, words="eval mode"),
    Mistake("Adam never stores m and v back", "Adam 1",
            [edit(ADAM, "            m *= beta1\n            m += (1 - beta1) * grad\n"
                  "            v *= beta2\n            v += (1 - beta2) * (grad * grad)",
                  "            m = beta1 * m + (1 - beta1) * grad\n"
                  "            v = beta2 * v + (1 - beta2) * (grad * grad)")],
            ALL_ADAM, words="the moments start from zero at every step"),
    Mistake("Dropout overwrites its input", "Dropout 1",
            [edit(FUNCTIONAL, "        return tensor.Tensor(x.data * ctx.mask)",
                  "        return tensor.Tensor(np.multiply(x.data, ctx.mask, out=x.data))")],
            {"Dropout 1", "Dropout 2"}, words="changed its input 0's .data in place"),
    Mistake("Dropout.backward multiplies by the dropped activations", "Dropout 2",
            [edit(FUNCTIONAL, "        ctx.mask = keep * (1.0 / (1 - p) if p < 1 else 0.0)\n",
                  "        ctx.mask = keep * (1.0 / (1 - p) if p < 1 else 0.0)\n"
                  "        ctx.dropped = x.data * ctx.mask\n"),
             edit(FUNCTIONAL, "        return _grads(g if ctx.mask is None else g * ctx.mask, "
                  "None, None)", "        return _grads(g if ctx.mask is None else g * "
                  "ctx.dropped, None, None)")],
            {"Dropout 2", "Dropout 3"}, words="multiplied by the dropped activations"),
    Mistake("Adam's bias correction counts the optimizer's steps, not the parameter's", "Adam 1",
            [edit(ADAM, "            t = self.step_counts[i]", "            t = self.t")],
            {"Adam 1"}, words="not this parameter's own"),
    Mistake("Adam ignores weight_decay", "Adam 1",
            [edit(ADAM, "            if weight_decay:\n                grad = grad + weight_decay * "
                  "param.data", "            if False:\n                grad = grad + "
                  "weight_decay * param.data")],
            {"Adam 1"}, words="the weight decay is missing"),
    Mistake("Dropout with p = 1 divides by zero", "Dropout 1",
            [edit(FUNCTIONAL, "ctx.mask = keep * (1.0 / (1 - p) if p < 1 else 0.0)",
                  "ctx.mask = keep / (1 - p)")],
            {"Dropout 1", "Dropout 2"}, words="p=1, training"),
    Mistake("BatchNorm uses batch statistics in eval mode (HW1 2.4)", "BatchNorm 3",
            [edit(FUNCTIONAL, "        if training:\n            n = x.shape[0]",
                  "        if True:\n            n = x.shape[0]")],
            {"BatchNorm 3", "BatchNorm 4", "Dropout 3"},
            words="fails inside your BatchNorm1d: see 2.4 of ./grade.sh 1"),
]


# Correct work the course's tests pass, and so must this grader: running statistics kept
# with shape (1, F) (PyTorch keeps (F,); the values are the same).
RUNNING_2D = [edit(BATCHNORM, "self.running_mean = Tensor(np.zeros(num_features))",
                   "self.running_mean = Tensor(np.zeros((1, num_features)))"),
              edit(BATCHNORM, "self.running_var = Tensor(np.ones(num_features))",
                   "self.running_var = Tensor(np.ones((1, num_features)))"),
              edit(FUNCTIONAL, "running_mean.data = (1 - momentum) * running_mean.data + "
                   "momentum * mean", "running_mean.data = (1 - momentum) * running_mean.data + "
                   "momentum * mean.reshape(1, -1)"),
              edit(FUNCTIONAL, "running_var.data = (1 - momentum) * running_var.data + momentum "
                   "* var * (n / (n - 1))", "running_var.data = (1 - momentum) * running_var.data"
                   " + momentum * var.reshape(1, -1) * (n / (n - 1))")]


@pytest.fixture(scope="module")
def graded():
    jobs = [(m.name, m.edits, "1b") for m in MISTAKES]
    return grade_copies(jobs + [("running statistics of shape (1, F)", RUNNING_2D, "1b")])


def test_running_statistics_of_shape_1_by_f_score_full_marks(graded):
    result = graded["running statistics of shape (1, F)"]
    assert result.failing == frozenset(), result.report
    assert "Total score: 25/25" in result.report


def test_the_library_scores_25():
    stream = io.StringIO()
    scores = grading.run(SPEC, stream=stream)
    assert scores == FULL and sum(scores.values()) == 25
    assert "Total score: 25/25" in stream.getvalue()


def test_the_point_table_is_the_courses():
    parts = {}
    for problem in SPEC.graded_problems:
        parts[problem.part] = parts.get(problem.part, 0) + problem.points
    assert parts == {"Adam": 5, "Dropout": 10, "BatchNorm": 10}
    assert [p.points for p in SPEC.graded_problems] == [1, 4, 3, 3, 4, 1, 1, 2, 6]
    assert list(FULL) == [       # the course's Autolab names, exactly
        "Linear Adam", "Big Linear ReLU XELoss Adam", "Linear ReLU Dropout",
        "Linear ReLU Dropout Backward", "Big Linear BN ReLU Dropout XELoss Adam",
        "Linear Batchnorm ReLU Forward (Train)", "Linear Batchnorm ReLU Backward (Train)",
        "Linear Batchnorm ReLU Train/Eval", "Big Linear Batchnorm ReLU Train/Eval"]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_typical_bonus_mistake_costs_exactly_its_tests(mistake, graded):
    result = graded[mistake.name]
    assert result.failing == mistake.costs, result.report
    assert mistake.words in result.report, result.report
    assert json.loads(result.report.strip().splitlines()[-1])["scores"] == result.scores


def test_grade_sh_1b_and_b_grade_the_bonus(tmp_path):
    environment = dict(os.environ, PYTHON=sys.executable)
    for word in ("1b", "b"):
        result = subprocess.run(["bash", str(ROOT / "grade.sh"), word, "Dropout"],
                                cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                                env=environment)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {"scores": {
            "Linear ReLU Dropout": 3, "Linear ReLU Dropout Backward": 3,
            "Big Linear BN ReLU Dropout XELoss Adam": 4}}


def test_bonus_fixtures_match_pytorch():
    pytest.importorskip("torch", reason="PyTorch is the optional oracle: see the README's set-up")
    from autograder import make_fixtures
    assert make_fixtures.check(make_fixtures.generate(SPEC), SPEC.fixtures) == 0


def test_a_one_point_test_says_one_point(graded):
    report = graded["Adam without bias correction"].report
    assert "FAIL Linear Adam (1 point)\n" in report and "(1 points)" not in report
    assert "FAIL Big Linear ReLU XELoss Adam (4 points)" in report
