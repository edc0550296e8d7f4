"""./grade.sh 2b: the HW2 bonus grader scores the library 25/25 and catches typical mistakes.

Each mistake is an edit of the reference source (or a student-like rewrite of one
Function with the mistake in it) on a scratch copy, graded by the real runner with
./grade.sh 2b alone.  The test pins which bonus tests it costs: a forward mistake costs
that forward and the CNN, never the backward, which is graded on a filled ctx.
Correct code written in other ways (tap loops, a backward written as a full
convolution with the flipped kernel, max pooling by argmax) scores 25.
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

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONAL = "mytorch/nn/functional.py"
SPEC = specs.get("2b")
FULL = {p.key: p.points for p in SPEC.graded_problems}


def edit(path, old, new):
    return Edit(path, old, new)


def costs(*problems):
    """The problems a mistake costs: these and the CNN, which runs every Function."""
    return set(problems) | {"CNN"}


CONV2D_FORWARD = '''        _check_conv("Conv2d", x, weight, bias, stride, 2)
        return tensor.Tensor(_conv_forward(x.data, weight.data, bias.data, stride))'''
CONV2D_BACKWARD = '''    def backward(ctx, grad_output):
        return _conv_backward(ctx, grad_output)


def _max_taps('''
TAP_FORWARD = '''        _check_conv("Conv2d", x, weight, bias, stride, 2)
        xd, w = x.data, weight.data
        k = w.shape[-1]
        rows = (xd.shape[{rows}] - k) // stride + 1
        cols = (xd.shape[{cols}] - k) // stride + 1
        out = np.zeros((xd.shape[0], w.shape[0], rows, cols))
        for a in range(k):
            for b in range(k):
                patch = xd[:, :, a:a + stride * (rows - 1) + 1:stride,
                           b:b + stride * (cols - 1) + 1:stride]
                out += np.einsum("nchw,oc->nohw", patch, w[:, :, {tap}])
        return tensor.Tensor(out + bias.data[None, :, None, None])'''
TAP_BACKWARD = '''    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        xd, w, g, s = x.data, weight.data, grad_output.data, ctx.stride
        k, rows, cols = w.shape[-1], g.shape[2], g.shape[3]
        grad_x, grad_w = np.zeros(xd.shape), np.zeros(w.shape)
        for a in range(k):
            for b in range(k):
                where = (slice(None), slice(None), slice(a, a + {step} * (rows - 1) + 1, {step}),
                         slice(b, b + {step} * (cols - 1) + 1, {step}))
                grad_w[:, :, a, b] = np.einsum("nohw,nchw->oc", g, xd[where]){average}
                grad_x[where] += np.einsum("nohw,oc->nchw", g, w[:, :, a, b])
        grad_b = g.sum(axis={bias_axes})
        return tensor.Tensor(grad_x), tensor.Tensor(grad_w), tensor.Tensor(grad_b), None


def _max_taps('''
FULL_CONVOLUTION = '''    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        xd, w, g, s = x.data, weight.data, grad_output.data, ctx.stride
        k, (rows, cols) = w.shape[-1], g.shape[2:]
        dilated = np.zeros(g.shape[:2] + ((rows - 1) * s + 1, (cols - 1) * s + 1))
        dilated[:, :, ::s, ::s] = g
        padded = np.pad(dilated, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        flipped = {kernel}
        reach = (padded.shape[2] - k + 1, padded.shape[3] - k + 1)
        grad_x, grad_w = np.zeros(xd.shape), np.zeros(w.shape)
        for a in range(k):
            for b in range(k):
                grad_x[:, :, :reach[0], :reach[1]] += np.einsum(
                    "nohw,oc->nchw", padded[:, :, a:a + reach[0], b:b + reach[1]],
                    flipped[:, :, a, b])
                patch = xd[:, :, a:a + s * (rows - 1) + 1:s, b:b + s * (cols - 1) + 1:s]
                grad_w[:, :, a, b] = np.einsum("nohw,nchw->oc", g, patch)
        grad_b = g.sum(axis=(0, 2, 3))
        return tensor.Tensor(grad_x), tensor.Tensor(grad_w), tensor.Tensor(grad_b), None


def _max_taps('''
CORRECT_TAP_FORWARD = TAP_FORWARD.format(rows=2, cols=3, tap="a, b")
CORRECT_TAP_BACKWARD = TAP_BACKWARD.format(step="s", average="", bias_axes="(0, 2, 3)")
MAX_FORWARD = "return tensor.Tensor(_max_taps(x.data, kernel_size, stride)[0])"
MAX_WINDOWS = "window_grads = (np.arange(k * k).reshape(k * k, 1, 1, 1, 1) == taps) * g"
MAX_RETURN = ('''        window_grads = np.moveaxis(window_grads.reshape((k, k) + g.shape), (0, 1), '''
              '''(4, 5))
        return _grads(col2im(window_grads, x.shape, ctx.stride), None, None)''')
MAX_BACKWARD = '''        _, taps = _max_taps(x.data, k, ctx.stride)
        # The windows' gradient: g at each window's first maximum, 0 at its other taps,
        # laid out tap by tap (K, K, N, C, H_out, W_out) for col2im's tap loop.
''' + "        " + MAX_WINDOWS + "\n" + MAX_RETURN
AVG_FORWARD = "return tensor.Tensor(im2col(x.data, kernel_size, stride).mean(axis=(-2, -1)))"
AVG_BACKWARD = ('''        window_grads = np.broadcast_to((g / (k * k))[..., None, None], '''
                '''g.shape + (k, k))
        return _grads(col2im(window_grads, x.shape, ctx.stride), None, None)''')
FIRST_MAXIMUM = '''    first = np.full(best.shape, len(taps) - 1, dtype=np.intp)
    for tap in range(len(taps) - 2, -1, -1):'''

MISTAKES = [
    # Conv2d forward
    Mistake("Conv2d forward flips the kernel (a true convolution)", "Conv2d 1",
            [edit(FUNCTIONAL, CONV2D_FORWARD, TAP_FORWARD.format(
                rows=2, cols=3, tap="k - 1 - a, k - 1 - b"))],
            costs("Conv2d 1"), words="the kernel is flipped (a true convolution)"),
    Mistake("Conv2d forward reads the kernel's axes swapped", "Conv2d 1",
            [edit(FUNCTIONAL, CONV2D_FORWARD, TAP_FORWARD.format(rows=2, cols=3, tap="b, a"))],
            costs("Conv2d 1"), words="the kernel's axes are swapped"),
    Mistake("Conv2d forward takes H from W and W from H", "Conv2d 1",
            [edit(FUNCTIONAL, CONV2D_FORWARD, TAP_FORWARD.format(rows=3, cols=2, tap="a, b"))],
            costs("Conv2d 1"), words="CNN fails inside your Conv2d: see Conv2d 1"),
    Mistake("Conv2d forward without the bias", "Conv2d 1",
            [edit(FUNCTIONAL, CONV2D_FORWARD, CONV2D_FORWARD.replace(
                "bias.data, stride", "0 * bias.data, stride"))],
            costs("Conv2d 1"), words="pattern: the bias is missing"),
    # Conv2d backward
    Mistake("Conv2d backward as a full convolution that forgets to flip the kernel", "Conv2d 2",
            [edit(FUNCTIONAL, CONV2D_BACKWARD, FULL_CONVOLUTION.format(kernel="w"))],
            costs("Conv2d 2"), words="computed with the kernel flipped"),
    Mistake("Conv2d backward ignores the stride", "Conv2d 2",
            [edit(FUNCTIONAL, CONV2D_BACKWARD, TAP_BACKWARD.format(
                step="1", average="", bias_axes="(0, 2, 3)"))],
            {"Conv2d 2"}, words="pattern: the stride is ignored"),      # the CNN's stride is 1
    Mistake("Conv2d backward averages dW over the batch", "Conv2d 2",
            [edit(FUNCTIONAL, CONV2D_BACKWARD, TAP_BACKWARD.format(
                step="s", average=" / len(xd)", bias_axes="(0, 2, 3)"))],
            costs("Conv2d 2"), words="averaged over the batch instead of summed"),
    Mistake("Conv2d backward sums db over the batch only", "Conv2d 2",
            [edit(FUNCTIONAL, CONV2D_BACKWARD, TAP_BACKWARD.format(
                step="s", average="", bias_axes="0"))],
            costs("Conv2d 2"), words="sum over the batch and every position"),
    # MaxPool2d
    Mistake("MaxPool2d forward takes the mean", "MaxPool2d 1",
            [edit(FUNCTIONAL, MAX_FORWARD, AVG_FORWARD)],
            costs("MaxPool2d 1"), words="that is average pooling"),
    Mistake("MaxPool2d forward swaps H and W", "MaxPool2d 1",
            [edit(FUNCTIONAL, MAX_FORWARD, MAX_FORWARD.replace("[0])", "[0].swapaxes(2, 3))"))],
            costs("MaxPool2d 1"), words="H and W are swapped"),
    # In the CNN, ties are zeros after a ReLU, whose gradient the ReLU stops: it passes.
    Mistake("MaxPool2d backward sends the gradient to every tied maximum", "MaxPool2d 2",
            [edit(FUNCTIONAL, MAX_BACKWARD, '''        best, _ = _max_taps(x.data, k, ctx.stride)
        windows = im2col(x.data, k, ctx.stride)
        window_grads = (windows == best[..., None, None]) * g[..., None, None]
        return _grads(col2im(window_grads, x.shape, ctx.stride), None, None)''')],
            {"MaxPool2d 2"}, words="the gradient went to every tied maximum"),
    Mistake("MaxPool2d backward picks the last tied maximum", "MaxPool2d 2",
            [edit(FUNCTIONAL, FIRST_MAXIMUM, '''    first = np.full(best.shape, 0, dtype=np.intp)
    for tap in range(1, len(taps)):''')],
            {"MaxPool2d 2"}, words="the gradient went to the window's last maximum"),
    Mistake("MaxPool2d backward ignores the stride", "MaxPool2d 2",
            [edit(FUNCTIONAL, MAX_RETURN, MAX_RETURN.replace("ctx.stride)", "1)"))],
            costs("MaxPool2d 2"), words="MaxPool2d.backward(ctx, grad_output"),
    Mistake("MaxPool2d backward left as the course's TODO stub", "MaxPool2d 2",
            [edit(FUNCTIONAL, MAX_BACKWARD, '        raise Exception("TODO!")')],
            costs("MaxPool2d 2"), words="not implemented yet: MaxPool2d.backward (Bonus "
                                        "MaxPool2d)"),
    Mistake("MaxPool2d backward ignores grad_output", "MaxPool2d 2",
            [edit(FUNCTIONAL, MAX_WINDOWS, MAX_WINDOWS.replace("* g", "* 1.0"))],
            costs("MaxPool2d 2"), words="the upstream gradient was ignored"),
    # AvgPool2d
    Mistake("AvgPool2d forward divides by kernel_size", "AvgPool2d 1",
            [edit(FUNCTIONAL, AVG_FORWARD, AVG_FORWARD.replace(
                ".mean(axis=(-2, -1))", ".sum(axis=(-2, -1)) / kernel_size"))],
            costs("AvgPool2d 1"), words="divided by kernel_size: a window holds"),
    Mistake("AvgPool2d forward divides its input in place", "AvgPool2d 1",
            [edit(FUNCTIONAL, AVG_FORWARD, '''data = x.data
        data /= kernel_size * kernel_size
        return tensor.Tensor(im2col(data, kernel_size, stride).sum(axis=(-2, -1)))''')],
            {"AvgPool2d 1"}, words="changed its input 0's .data in place"),
    Mistake("AvgPool2d backward divides by kernel_size", "AvgPool2d 2",
            [edit(FUNCTIONAL, "(g / (k * k))[..., None, None]", "(g / k)[..., None, None]")],
            costs("AvgPool2d 2"), words="divided by kernel_size: each of the window's"),
    Mistake("AvgPool2d backward ignores the stride", "AvgPool2d 2",
            [edit(FUNCTIONAL, AVG_BACKWARD, AVG_BACKWARD.replace("ctx.stride)", "1)"))],
            costs("AvgPool2d 2"), words="pattern: the stride is ignored"),
    Mistake("AvgPool2d backward divides grad_output in place", "AvgPool2d 2",
            [edit(FUNCTIONAL, AVG_BACKWARD, '''        g /= k * k
        window_grads = np.broadcast_to(g[..., None, None], g.shape + (k, k))
        return _grads(col2im(window_grads, x.shape, ctx.stride), None, None)''')],
            {"AvgPool2d 2"}, words="modified its argument grad_output in place"),
]

ALTERNATIVES = {
    "Conv2d as loops over the kernel taps": [
        edit(FUNCTIONAL, CONV2D_FORWARD, CORRECT_TAP_FORWARD),
        edit(FUNCTIONAL, CONV2D_BACKWARD, CORRECT_TAP_BACKWARD)],
    "Conv2d backward as a full convolution with the flipped kernel": [
        edit(FUNCTIONAL, CONV2D_BACKWARD, FULL_CONVOLUTION.format(kernel="w[:, :, ::-1, ::-1]"))],
    "max pooling by argmax over each window": [
        edit(FUNCTIONAL, MAX_FORWARD, "return tensor.Tensor(im2col(x.data, kernel_size, stride)"
             ".max(axis=(-2, -1)))"),
        edit(FUNCTIONAL, MAX_BACKWARD, '''        windows = im2col(x.data, k, ctx.stride)
        flat = windows.reshape(windows.shape[:4] + (k * k,))
        first = flat.argmax(axis=-1)                # the first maximum, row-major
        window_grads = np.zeros(flat.shape)
        np.put_along_axis(window_grads, first[..., None], g[..., None], axis=-1)
        return _grads(col2im(window_grads.reshape(windows.shape), x.shape, ctx.stride), None,
                      None)''')],
    "average pooling as a loop over the taps": [
        edit(FUNCTIONAL, AVG_FORWARD, '''xd, k, s = x.data, kernel_size, stride
        rows, cols = (xd.shape[2] - k) // s + 1, (xd.shape[3] - k) // s + 1
        out = np.zeros(xd.shape[:2] + (rows, cols))
        for a in range(k):
            for b in range(k):
                out += xd[:, :, a:a + s * (rows - 1) + 1:s, b:b + s * (cols - 1) + 1:s]
        return tensor.Tensor(out / (k * k))''')],
}

# The library's Conv2d and pooling share HW2's window helpers: a mistake in one of them
# (HW2's 1.1.1) costs every bonus test that counts windows, and the report names it.
INSIDE = Mistake("HW2's output size off by one", "1.1.1 of ./grade.sh 2",
                 [edit(FUNCTIONAL,
                       "return (int(input_size) - int(kernel_size)) // int(stride) + 1",
                       "return (int(input_size) - int(kernel_size)) // int(stride)")],
                 {p.number for p in SPEC.graded_problems} - {"AvgPool2d 2"},
                 words="fails inside your get_conv1d_output_size: see 1.1.1 of ./grade.sh 2")


@pytest.fixture(scope="module")
def graded():
    jobs = [(m.name, m.edits, "2b") for m in MISTAKES + [INSIDE]]
    jobs += [("alternative: " + name, edits, "2b") for name, edits in ALTERNATIVES.items()]
    return grade_copies(jobs)


def blamed(report):
    """The problems that the report's "fails inside your X: see P" notes name."""
    return set(re.findall(r"fails inside your [^\n]*?: see ([^\n]+)$", report, re.M))


def allowed(problem):
    return {p.number for p in SPEC.graded_problems if problem in SPEC.closure([p.number])}


def test_the_library_scores_25():
    stream = io.StringIO()
    scores = grading.run(SPEC, stream=stream)
    assert scores == FULL and sum(scores.values()) == 25
    assert "Total score: 25/25" in stream.getvalue()


def test_the_point_table_is_the_projects():
    assert [(p.key, p.points) for p in SPEC.graded_problems] == [
        ("Conv2d Forward", 5), ("Conv2d Backward", 5), ("MaxPool2d Forward", 3),
        ("MaxPool2d Backward", 4), ("AvgPool2d Forward", 2), ("AvgPool2d Backward", 2),
        ("Small CNN with Momentum", 4)]
    assert SPEC.bonus and SPEC.homework == 2 and SPEC.requires == ("2",)


def test_the_catalogue_holds_15_mistakes_or_more_on_every_function():
    assert len(MISTAKES) >= 15
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)
    assert {m.problem for m in MISTAKES} == {p.number for p in SPEC.graded_problems} - {"CNN"}


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_typical_bonus_mistake_costs_exactly_its_tests(mistake, graded):
    result = graded[mistake.name]
    assert result.failing == mistake.costs, result.report
    assert mistake.costs <= allowed(mistake.problem)
    assert mistake.words in result.report, result.report
    assert blamed(result.report) <= {mistake.problem}, result.report    # blame with evidence
    assert json.loads(result.report.strip().splitlines()[-1])["scores"] == result.scores


def test_a_failure_inside_hw2s_helpers_names_them(graded):
    result = graded[INSIDE.name]
    assert result.failing == INSIDE.costs, result.report
    assert INSIDE.words in result.report, result.report
    # Conv2d's backward raises inside _conv_backward (1.1.2's part), which 1.1.2 fails too
    assert blamed(result.report) == {INSIDE.problem, "1.1.2 of ./grade.sh 2"}


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_other_correct_bonus_implementations_score_25(name, graded):
    result = graded["alternative: " + name]
    assert result.failing == frozenset(), result.report
    assert "Total score: 25/25" in result.report


def test_grade_sh_2b_grades_one_layer(tmp_path):
    result = subprocess.run(["sh", str(ROOT / "grade.sh"), "2b", "MaxPool2d"],
                            cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"scores": {
        "MaxPool2d Forward": 3, "MaxPool2d Backward": 4}}


def test_bonus_fixtures_match_pytorch():
    pytest.importorskip("torch", reason="PyTorch is the optional oracle: see the README's set-up")
    from autograder import make_fixtures
    assert make_fixtures.check(make_fixtures.generate(SPEC), SPEC.fixtures) == 0
