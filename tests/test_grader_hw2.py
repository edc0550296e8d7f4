"""./grade.sh 2 against typical HW2P1 mistakes: each is caught and charged to its own problem.

Every mistake below is an edit of the reference source, applied to a scratch copy of
the student's folders and graded by the real runner (tests/grader_harness.py), with
./grade.sh 2 alone.  The test asserts exactly which problems it costs, that those are
allowed by the dependency table (autograder/hw2_autograder/spec.py: the mistake's own
problem and the problems that depend on it), and that the report points at the fix.
Correct code written in other ways a student might write it (tap loops, a backward
written as a full convolution, another copy of each shared block, ...) scores 95.
"""
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import grading, specs
from grader_harness import Edit, Mistake, grade_copies
from test_grader_catalogue import ALTERNATIVES as HW1_ALTERNATIVES

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONAL = "mytorch/nn/functional.py"
CONV = "mytorch/nn/conv.py"
SCAN = "hw2/mlp_scan.py"
HW2 = "hw2/hw2.py"
SPEC = specs.get("2")
FULL = {p.key: p.points for p in SPEC.graded_problems}


def edit(path, old, new, count=1):
    return Edit(path, old, new, count)


CONV1D_FORWARD = '''        _check_conv("Conv1d", x, weight, bias, stride, 1)
        return tensor.Tensor(_conv_forward(x.data, weight.data, bias.data, stride))'''
CONV1D_BACKWARD = '''    def backward(ctx, grad_output):
        return _conv_backward(ctx, grad_output)


class Conv2d(Function):'''
# A Conv1d written as the sheet describes it: a loop over the kernel taps.
TAP_FORWARD = '''        xd, w = x.data, weight.data
        k = w.shape[2]
        width = get_conv1d_output_size(xd.shape[2], k, stride)
        out = np.zeros((xd.shape[0], w.shape[0], width))
        for tap in range(k):
            window = xd[:, :, tap:tap + stride * (width - 1) + 1:stride]
            out += np.einsum("ncp,oc->nop", window, w[:, :, tap])
        return tensor.Tensor(out + bias.data[None, :, None])'''
TAP_BACKWARD = '''    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        xd, w, g, stride = x.data, weight.data, grad_output.data, ctx.stride
        k, width = w.shape[2], g.shape[2]
        grad_x, grad_w = np.zeros(xd.shape), np.zeros(w.shape)
        for tap in range(k):
            where = slice(tap, tap + stride * (width - 1) + 1, stride)
            grad_w[:, :, tap] = np.einsum("nop,ncp->oc", g, xd[:, :, where]){average}
            grad_x[:, :, where] {accumulate} np.einsum("nop,oc->ncp", g, w[:, :, tap])
        grad_b = g.sum(axis=(0, 2))
        return tensor.Tensor(grad_x), tensor.Tensor(grad_w), tensor.Tensor(grad_b), None


class Conv2d(Function):'''
# Backward with grad_x as a full convolution of the dilated grad_output with the flipped kernel.
FULL_CONVOLUTION = '''    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        xd, w, g, s = x.data, weight.data, grad_output.data, ctx.stride
        k, width = w.shape[2], g.shape[2]
        dilated = np.zeros(g.shape[:2] + ((width - 1) * s + 1,))
        dilated[:, :, ::s] = g
        padded = np.pad(dilated, ((0, 0), (0, 0), (k - 1, k - 1)))
        flipped = {kernel}
        reach = padded.shape[2] - k + 1
        grad_x = np.zeros(xd.shape)
        for tap in range(k):
            grad_x[:, :, :reach] += np.einsum("nop,oc->ncp", padded[:, :, tap:tap + reach],
                                              flipped[:, :, tap])
        grad_w = np.stack([np.einsum("nop,ncp->oc", g, xd[:, :, t:t + s * (width - 1) + 1:s])
                           for t in range(k)], axis=2)
        return tensor.Tensor(grad_x), tensor.Tensor(grad_w), tensor.Tensor(g.sum(axis=(0, 2))), None


class Conv2d(Function):'''
SIMPLE_INIT = '''        w1, w2, w3 = self._mlp_weights(weights)
        self._load(self.conv1, w1.reshape(8, 8, CHANNELS).transpose(0, 2, 1), "conv1")
        self._load(self.conv2, w2[:, :, None], "conv2")
        self._load(self.conv3, w3[:, :, None], "conv3")'''
SIMPLE_LAYERS = '''        self.conv3 = Conv1d(16, 4, 1, 1)
        self.layers = Sequential(self.conv1, ReLU(), self.conv2, ReLU(), self.conv3, Flatten())'''
FINAL_SIZE = '''    width = input_size
    for layer in layers:
        if hasattr(layer, "kernel_size") and hasattr(layer, "stride"):
            width = get_conv1d_output_size(width, layer.kernel_size, layer.stride)
    return width'''


# --------------------------------------------------------------------------- #
# The catalogue
# --------------------------------------------------------------------------- #
MISTAKES = [
    # 1.1.1 Conv1D forward (the library's backward reuses forward's window helpers: 1.1.2)
    Mistake("output size off by one (no + 1)", "1.1.1",
            [edit(FUNCTIONAL, "return (int(input_size) - int(kernel_size)) // int(stride) + 1",
                  "return (int(input_size) - int(kernel_size)) // int(stride)")],
            {"1.1.1", "1.1.2"}, words="one short: the formula needs its + 1"),
    Mistake("output size as a float", "1.1.1",
            [edit(FUNCTIONAL, "return (int(input_size) - int(kernel_size)) // int(stride) + 1",
                  "return (float(input_size) - kernel_size) // stride + 1")],
            {"1.1.1", "1.1.2"}, words="should return a plain int, got float"),
    Mistake("forward flips the kernel (a true convolution)", "1.1.1",
            [edit(FUNCTIONAL, CONV1D_FORWARD, CONV1D_FORWARD.replace(
                "weight.data, bias.data", "weight.data[:, :, ::-1], bias.data"))],
            {"1.1.1"}, words="the kernel is flipped (a true convolution)"),
    Mistake("forward without the bias", "1.1.1",
            [edit(FUNCTIONAL, CONV1D_FORWARD, CONV1D_FORWARD.replace(
                "bias.data, stride", "0 * bias.data, stride"))],
            {"1.1.1"}, words="pattern: the bias is missing"),
    Mistake("forward ignores the stride", "1.1.1",
            [edit(FUNCTIONAL, CONV1D_FORWARD, CONV1D_FORWARD.replace(
                "bias.data, stride)", "bias.data, 1)"))],
            {"1.1.1"}, words="the stride is ignored"),
    Mistake("forward adds the bias once per input channel", "1.1.1",
            [edit(FUNCTIONAL, CONV1D_FORWARD, CONV1D_FORWARD.replace(
                "bias.data, stride", "x.shape[1] * bias.data, stride"))],
            {"1.1.1"}, words="once per input channel"),
    Mistake("tap-loop forward reads x[p + k], not x[p*stride + k]", "1.1.1",
            [edit(FUNCTIONAL, CONV1D_FORWARD, TAP_FORWARD.replace(
                "window = xd[:, :, tap:tap + stride * (width - 1) + 1:stride]",
                "window = xd[:, :, tap:tap + width]"))],
            {"1.1.1"}, words="pattern: the stride is ignored: output position p reads"),
    # 1.1.2 Conv1D backward
    Mistake("backward ignores the stride", "1.1.2",
            [edit(FUNCTIONAL, "grad_x = col2im(window_grads.transpose(order), x.shape, stride)",
                  "grad_x = col2im(window_grads.transpose(order), x.shape, 1)")],
            {"1.1.2"}, words="the stride is ignored: output position p read x[p*stride + k]"),
    Mistake("dW summed over the wrong axes (the batch axis left in place)", "1.1.2",
            [edit(FUNCTIONAL, "grad_w = (g_rows @ _columns(",
                  "grad_w = (g.reshape(g.shape[1], -1) @ _columns(")],
            {"1.1.2"}, words="gradient w.r.t. weight: values differ"),
    Mistake("db averaged instead of summed", "1.1.2",
            [edit(FUNCTIONAL, "grad_b = g_rows.sum(axis=1)", "grad_b = g_rows.mean(axis=1)")],
            {"1.1.2"}, words="averaged over samples and positions instead of summed"),
    Mistake("db summed over the batch only", "1.1.2",
            [edit(FUNCTIONAL, "grad_b = g_rows.sum(axis=1)", "grad_b = g.sum(axis=0)")],
            {"1.1.2"}, words="sum over the batch and every position"),
    Mistake("dx through the flipped kernel", "1.1.2",
            [edit(FUNCTIONAL, "window_grads = w.reshape(w.shape[0], -1).T @ g_rows",
                  "window_grads = w[..., ::-1].reshape(w.shape[0], -1).T @ g_rows")],
            {"1.1.2"}, words="computed with the kernel flipped"),
    Mistake("backward as a full convolution that forgets to flip the kernel", "1.1.2",
            [edit(FUNCTIONAL, CONV1D_BACKWARD, FULL_CONVOLUTION.format(kernel="w"))],
            {"1.1.2"}, words="computed with the kernel flipped"),
    Mistake("dW with the taps in reverse order", "1.1.2",
            [edit(FUNCTIONAL, "_columns(x, w.shape[-1], stride).T).reshape(w.shape)",
                  "_columns(x, w.shape[-1], stride).T).reshape(w.shape)[..., ::-1]")],
            {"1.1.2"}, words="the kernel taps are in reverse order"),
    Mistake("backward ignores grad_output", "1.1.2",
            [edit(FUNCTIONAL, "(x, weight, bias), g = ctx.saved_tensors, grad_output.data",
                  "(x, weight, bias), g = ctx.saved_tensors, np.ones(grad_output.shape)")],
            {"1.1.2"}, words="the upstream gradient was ignored"),
    Mistake("backward returns no None for the stride", "1.1.2",
            [edit(FUNCTIONAL, "return _grads(grad_x, grad_w, grad_b, None)",
                  "return _grads(grad_x, grad_w, grad_b)")],
            {"1.1.2"}, words="returned 3 gradient(s); it should return 4"),
    Mistake("overlapping windows' gradients overwrite instead of adding up", "1.1.2",
            [edit(FUNCTIONAL, "result[where] += cols[(Ellipsis,) + tap]",
                  "result[where] = cols[(Ellipsis,) + tap]")],
            {"1.1.2"}, words="gradient w.r.t. x: values differ"),
    Mistake("tap-loop backward: dW averaged over the batch", "1.1.2",
            [edit(FUNCTIONAL, CONV1D_BACKWARD, TAP_BACKWARD.format(average=" / len(xd)",
                                                                   accumulate="+="))],
            {"1.1.2"}, words="averaged over the batch instead of summed"),
    # 1.2 Flatten
    Mistake("Flatten transposes", "1.2",
            [edit(CONV, "return x.reshape(x.shape[0], -1)",
                  "return x.T().reshape(x.shape[0], -1)")],
            {"1.2"}, words="the input was transposed"),
    Mistake("Flatten for 3-D inputs only", "1.2",
            [edit(CONV, "return x.reshape(x.shape[0], -1)",
                  "return x.reshape(x.shape[0], x.shape[1] * x.shape[2])")],
            {"1.2"}, words="cannot reshape a tensor of shape (3, 2, 5, 4)"),
    Mistake("Flatten breaks the graph", "1.2",
            [edit(CONV, "return x.reshape(x.shape[0], -1)",
                  "return Tensor(x.data.reshape(x.shape[0], -1))")],
            {"1.2"}, words="the output must be part of the graph"),
    Mistake("Flatten flattens the batch too", "1.2",
            [edit(CONV, "return x.reshape(x.shape[0], -1)", "return x.reshape(-1)")],
            {"1.2"}, words="shape (2, 124) expected"),
    # 2.1 Simple scanning MLP
    Mistake("MLP weights reshaped channel-major", "2.1",
            [edit(SCAN, "w1.reshape(8, 8, CHANNELS).transpose(0, 2, 1)",
                  "w1.reshape(8, CHANNELS, 8)")],
            {"2.1"}, words="w1 reshaped channel-major"),
    Mistake("the first layer moves by 8 steps", "2.1",
            [edit(SCAN, "Conv1d(CHANNELS, 8, 8, 4)", "Conv1d(CHANNELS, 8, 8, 8)")],
            {"2.1"}, words="layers should be [Conv1d(24, 8, 8, 4)"),
    Mistake("the MLP's integer weights kept as integers", "2.1",
            [edit(SCAN, SIMPLE_INIT, '''        w1, w2, w3 = weights
        self.conv1.weight.data = w1.reshape(8, 8, CHANNELS).transpose(0, 2, 1)
        self.conv2.weight.data = w2[:, :, None]
        self.conv3.weight.data = w3[:, :, None]''')],
            {"2.1"}, words="should hold float64 values, got dtype int64"),
    Mistake("init_weights replaces the parameters by constants", "2.1",
            [edit(SCAN, SIMPLE_INIT, SIMPLE_INIT.replace(
                '''        self._load(self.conv3, w3[:, :, None], "conv3")''',
                '''        self._load(self.conv3, w3[:, :, None], "conv3")
        for conv in (self.conv1, self.conv2, self.conv3):
            conv.weight = type(conv.weight)(conv.weight.data)'''))],
            {"2.1"}, words="requires_grad should be True"),
    Mistake("no ReLU between the last two layers", "2.1",
            [edit(SCAN, SIMPLE_LAYERS, SIMPLE_LAYERS.replace(
                "self.conv2, ReLU(), self.conv3", "self.conv2, self.conv3"))],
            {"2.1"}, words="got [Conv1d(24, 8, 8, 4), ReLU(), Conv1d(8, 16, 1, 1), Conv1d"),
    # 2.2 Distributed scanning MLP
    Mistake("the wrong block of w1 (NaN), caught by the given helper", "2.2",
            [edit(SCAN, "w1[0:2, 0:2 * CHANNELS]", "w1[2:4, 0:2 * CHANNELS]")],
            {"2.2"}, words="the block picked for conv1 holds NaN"),
    Mistake("the wrong block of w2 (NaN), written without the helper", "2.2",
            [edit(SCAN, 'self._load(self.conv2, w2[0:8, 0:4].reshape(8, 2, 2).transpose(0, 2, 1),'
                  ' "conv2")', "self.conv2.weight.data = w2[0:8, 4:8].reshape(8, 2, 2)"
                  ".transpose(0, 2, 1)")],
            {"2.2"}, words="holds NaN: the block taken from the MLP's weights is not one copy"),
    Mistake("layer 3's weights reshaped channel-major", "2.2",
            [edit(SCAN, "w3.reshape(4, 2, 8).transpose(0, 2, 1)", "w3.reshape(4, 8, 2)")],
            {"2.2"}, words="layer 3's weights reshaped channel-major"),
    Mistake("layer 2's block reshaped channel-major", "2.2",
            [edit(SCAN, "w2[0:8, 0:4].reshape(8, 2, 2).transpose(0, 2, 1)",
                  "w2[0:8, 0:4].reshape(8, 2, 2)")],
            {"2.2"}, words="layer 2's block reshaped channel-major"),
    Mistake("the last layer moves by 2", "2.2",
            [edit(SCAN, "self.conv3 = Conv1d(8, 4, 2, 1)", "self.conv3 = Conv1d(8, 4, 2, 2)")],
            {"2.2"}, words="got [Conv1d(24, 2, 2, 2), ReLU(), Conv1d(2, 8, 2, 2), ReLU(), "
                           "Conv1d(8, 4, 2, 2)"),
    # 3 CNN
    Mistake("a hard-coded get_final_conv_output_size", "3",
            [edit(HW2, FINAL_SIZE, "    return 13")],
            {"3"}, words="compute it from the layers, not as a constant"),
    Mistake("get_final_conv_output_size ignores the strides", "3",
            [edit(HW2, "get_conv1d_output_size(width, layer.kernel_size, layer.stride)",
                  "get_conv1d_output_size(width, layer.kernel_size, 1)")],
            {"3"}, words="the Linear reads 14 channels times the width"),
    Mistake("ReLU where the CNN has Tanh", "3",
            [edit(HW2, "convolutions = [Conv1d(24, 56, 5, 1), Tanh(),",
                  "convolutions = [Conv1d(24, 56, 5, 1), ReLU(),")],
            {"3"}, words="CNN().layers should be [Conv1d(24, 56, 5, 1), Tanh()"),
    Mistake("get_final_conv_output_size left as the course's TODO stub", "3",
            [edit(HW2, FINAL_SIZE, '    raise Exception("TODO!")')],
            {"3"}, words="not implemented yet: get_final_conv_output_size (Problem 3 of "
                         "./grade.sh 2)"),
    Mistake("the CNN's second convolution with stride 1", "3",
            [edit(HW2, "Conv1d(56, 28, 6, 2), ReLU()", "Conv1d(56, 28, 6, 1), ReLU()")],
            {"3"}, words="Conv1d(56, 28, 6, 1)"),
]

# Correct code written in other ways a student might write it.
ALTERNATIVES = {
    "Conv1d as loops over the kernel taps": [
        edit(FUNCTIONAL, CONV1D_FORWARD, TAP_FORWARD),
        edit(FUNCTIONAL, CONV1D_BACKWARD, TAP_BACKWARD.format(average="", accumulate="+="))],
    "backward as a full convolution with the flipped kernel": [
        edit(FUNCTIONAL, CONV1D_BACKWARD, FULL_CONVOLUTION.format(kernel="w[:, :, ::-1]"))],
    "an output size of NumPy's integer type": [
        edit(FUNCTIONAL, "return (int(input_size) - int(kernel_size)) // int(stride) + 1",
             "return np.floor_divide(int(input_size) - int(kernel_size), int(stride)) + 1")],
    "Flatten with the size computed": [
        edit(CONV, "return x.reshape(x.shape[0], -1)",
             "return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))")],
    "init_weights as a loop over time steps, without the helpers": [
        edit(SCAN, SIMPLE_INIT, '''        w1, w2, w3 = (np.asarray(w) for w in weights)
        first = np.zeros((8, CHANNELS, 8))
        for t in range(8):
            first[:, :, t] = w1[:, t * CHANNELS:(t + 1) * CHANNELS]
        self.conv1.weight.data = first
        self.conv2.weight.data = w2.astype(np.float64).reshape(16, 8, 1)
        self.conv3.weight.data = w3.astype(np.float64).reshape(4, 16, 1)''')],
    "the last copy of each shared block": [
        edit(SCAN, "w1[0:2, 0:2 * CHANNELS]", "w1[6:8, 6 * CHANNELS:8 * CHANNELS]"),
        edit(SCAN, "w2[0:8, 0:4].reshape(8, 2, 2).transpose(0, 2, 1)",
             "w2[8:16, 4:8].reshape(8, 2, 2).transpose(0, 2, 1)")],
    "get_final_conv_output_size for Conv1d layers, its formula inline": [
        edit(HW2, FINAL_SIZE, '''    width = input_size
    for layer in layers:
        if isinstance(layer, Conv1d):
            width = (width - layer.kernel_size) // layer.stride + 1
    return width''')],
}
# The grader's own Functions run on any engine written to the handout.
ALTERNATIVES["HW1's engine as the handout writes it (recursive, a plain apply)"] = \
    HW1_ALTERNATIVES["the handout's recursive engine and a plain apply"]
ALTERNATIVES["all of them together"] = [
    e for name, edits in ALTERNATIVES.items()
    if name != "backward as a full convolution with the flipped kernel" for e in edits]

# A failure inside an HW1 part is named: the CNN's ReLU passes every gradient back.
INSIDE = Mistake("HW1's ReLU.backward passes every gradient", "2.2 of ./grade.sh 1",
                 [edit(FUNCTIONAL, "return _grads(grad_output.data * ctx.mask)",
                       "return _grads(grad_output.data * 1.0)")],
                 {"3"}, words="3 fails inside your ReLU: see 2.2 of ./grade.sh 1")


@pytest.fixture(scope="module")
def graded():
    """Every mistake and alternative, graded once by ./grade.sh 2 (two at a time)."""
    jobs = [(m.name, m.edits, "2") for m in MISTAKES + [INSIDE]]
    jobs += [("alternative: " + name, edits, "2") for name, edits in ALTERNATIVES.items()]
    return grade_copies(jobs)


def blamed(report):
    """The problems that the report's "fails inside your X: see P" notes name."""
    return set(re.findall(r"fails inside your [^\n]*?: see ([^\n]+)$", report, re.M))


def allowed(problem):
    """The problems a mistake in ``problem``'s code may cost: it and those depending on it."""
    return {p.number for p in SPEC.graded_problems if problem in SPEC.closure([p.number])}


def test_the_library_scores_95_with_the_courses_table():
    stream = io.StringIO()
    scores = grading.run(SPEC, stream=stream)
    assert scores == FULL == {"Conv1D Forward": 20, "Conv1D Backward": 30, "Flatten": 10,
                              "SimpleScanningMLP": 10, "DistributedScanningMLP": 10, "CNN": 15}
    assert "Total score: 95/95" in stream.getvalue()
    assert [p.number for p in SPEC.graded_problems] == ["1.1.1", "1.1.2", "1.2", "2.1", "2.2",
                                                        "3"]


def test_the_catalogue_covers_every_problem_with_25_mistakes_or_more():
    assert len(MISTAKES) >= 25
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)
    assert {m.problem for m in MISTAKES} == {p.number for p in SPEC.graded_problems}
    for problem in {m.problem for m in MISTAKES}:
        assert sum(m.problem == problem for m in MISTAKES) >= 3, problem


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_typical_mistake_costs_exactly_its_problems(mistake, graded):
    result = graded[mistake.name]
    assert result.failing == mistake.costs, result.report
    assert mistake.costs <= allowed(mistake.problem)
    assert mistake.words in result.report, result.report
    assert blamed(result.report) <= {mistake.problem}, result.report    # blame with evidence
    total = 95 - sum(p.points for p in SPEC.graded_problems if p.number in mistake.costs)
    assert "Total score: {}/95".format(total) in result.report
    assert json.loads(result.report.strip().splitlines()[-1])["scores"] == result.scores


def test_a_failure_inside_an_hw1_part_names_it(graded):
    result = graded[INSIDE.name]
    assert result.failing == INSIDE.costs, result.report
    assert INSIDE.words in result.report, result.report
    assert blamed(result.report) == {INSIDE.problem}


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_other_correct_implementations_score_95(name, graded):
    result = graded["alternative: " + name]
    assert result.failing == frozenset(), result.report
    assert "Total score: 95/95" in result.report


def test_every_part_points_at_a_section_of_the_problem_sheet():
    sheet = (ROOT / SPEC.sheet).read_text()
    for spec in specs.of_homework(2):
        assert spec.sheet == "docs/hw2p1.md"
        for part in spec.parts:
            assert '<a id="{}"></a>'.format(part.section) in sheet, part


def test_the_readme_counts_the_catalogues_right():
    from test_grader_hw2_bonus import MISTAKES as BONUS_MISTAKES
    readme = (ROOT / "README.md").read_text()
    counts = "{} for `./grade.sh 2`, {} for `./grade.sh 2b`".format(len(MISTAKES),
                                                                   len(BONUS_MISTAKES))
    assert counts in readme
    assert "apply {} and {} typical mistakes".format(len(MISTAKES), len(BONUS_MISTAKES)) \
        in " ".join(readme.split())


def test_grade_sh_2_grades_one_problem(tmp_path):
    result = subprocess.run(["sh", str(ROOT / "grade.sh"), "2", "1.2"], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"scores": {"Flatten": 10}}


def test_hw2_fixtures_match_pytorch():
    pytest.importorskip("torch", reason="PyTorch is the optional oracle: see the README's set-up")
    from autograder import make_fixtures
    assert make_fixtures.check(make_fixtures.generate(SPEC), SPEC.fixtures) == 0
