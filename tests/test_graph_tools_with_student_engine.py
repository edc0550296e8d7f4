"""viz and anomaly mode with a student's own Function.apply and backward (practice mode).

Practice mode replaces Function.apply, autograd_engine.backward and Tensor.backward
with the student's code, so the graph tools may rely only on what the handout
gives ready-made.  Here they run on a minimal handout-style engine: an apply that
never sets BackwardFunction.shape or ctx.needs_input_grad, and the recursive DFS
that section 0.1.5 describes.  They may show less, but must work and never crash.
"""
import os
import re
import sys

import numpy as np
import pytest

import mytorch
from mytorch import Tensor, autograd_engine, viz
from mytorch.autograd_engine import AccumulateGrad, BackwardFunction, Function

HERE = os.path.basename(__file__)

STUDENT_CODE = '''
def apply(cls, *args):
    backward_function = BackwardFunction(cls)
    output_tensor = cls.forward(backward_function.ctx, *args)
    for arg in args:
        if isinstance(arg, Tensor) and arg.requires_grad:
            if arg.grad_fn is None:
                arg.grad_fn = AccumulateGrad(arg)
            backward_function.next_functions.append(arg.grad_fn)
        else:
            backward_function.next_functions.append(None)
    if any(node is not None for node in backward_function.next_functions):
        output_tensor.requires_grad = True
        output_tensor.is_leaf = False
        output_tensor.grad_fn = backward_function
    return output_tensor


def backward(grad_fn, grad_of_outputs):
    if grad_fn is None:
        return
    grads = grad_fn.apply(grad_of_outputs)
    if grads is None:                      # an AccumulateGrad stored it
        return
    if not isinstance(grads, tuple):
        grads = (grads,)
    for parent, grad in zip(grad_fn.next_functions, grads):
        if parent is not None and grad is not None:
            backward(parent, grad)


def tensor_backward(self):
    engine.backward(self.grad_fn, Tensor(np.ones(self.shape)))
'''


@pytest.fixture
def student_engine(monkeypatch):
    """Install the student's engine.  Its code counts as mytorch/'s (where practice mode puts
    it), so anomaly mode's "first frame outside mytorch/" is the test's line, as for a student."""
    namespace = {"BackwardFunction": BackwardFunction, "AccumulateGrad": AccumulateGrad,
                 "Tensor": Tensor, "np": np, "engine": autograd_engine}
    filename = os.path.join(os.path.dirname(autograd_engine.__file__), "student_engine.py")
    exec(compile(STUDENT_CODE, filename, "exec"), namespace)
    monkeypatch.setattr(Function, "apply", classmethod(namespace["apply"]))
    monkeypatch.setattr(autograd_engine, "backward", namespace["backward"])
    monkeypatch.setattr(Tensor, "backward", namespace["tensor_backward"])
    yield
    mytorch.set_detect_anomaly(False)


def worked_example():
    a, b, c = Tensor(1., requires_grad=True), Tensor(2.), Tensor(3., requires_grad=True)
    d = a * b + a
    e = (d + c) + 3
    return e, a, c


def test_the_student_engine_is_the_one_running(student_engine):
    e, a, c = worked_example()
    assert e.grad_fn.shape is None, "the student's apply does not set the output's shape"
    e.backward()
    assert e.data == 9 and a.grad.data == 3 and c.grad.data == 1
    assert e.grad_fn.ctx is not None, "the recursive DFS does not free ctx"


def test_reprs(student_engine):
    e, a, c = worked_example()
    assert repr(e.grad_fn.next_functions) == "[<BackwardFunction Add>, None]"
    assert repr(e) == "tensor(9., grad_fn=<Add>)"


def test_to_dot_and_show_without_shapes(student_engine, capsys):
    e, a, c = worked_example()
    e.backward()
    source = viz.to_dot(e, params={"a": a, "c": c})
    labels = re.findall(r'label="([^"]*)"', source)
    assert sorted(labels) == sorted(["Add"] * 3 + ["Mul", "None", "None",
                                                   "AccumulateGrad\\na\\n()\\ngrad norm 3",
                                                   "AccumulateGrad\\nc\\n()\\ngrad norm 1"])
    assert len(re.findall(r"->", source)) == 8
    viz.show(e, params={"a": a, "c": c})
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Add"
    assert "|   |   +-- Mul\n" in out and "AccumulateGrad c ()  grad norm 1" in out


def test_draw(student_engine, tmp_path):
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    e, a, c = worked_example()
    e.backward()
    viz.draw(e, str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_anomaly_mode_forward(student_engine):
    x = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    with mytorch.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            with np.errstate(invalid="ignore"):
                x.log()
        line = sys._getframe().f_lineno - 1
    assert str(info.value).startswith("Log.forward turned finite inputs into NaN")
    assert "{}:{}:".format(HERE, line) in str(info.value)


def test_anomaly_mode_backward(student_engine):
    class Poison(Function):
        @staticmethod
        def forward(ctx, a, b):
            return Tensor(a.data * b.data)

        @staticmethod
        def backward(ctx, grad_output):
            return Tensor(grad_output.data), Tensor(grad_output.data * np.nan)

    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    with mytorch.detect_anomaly():
        y = Poison.apply(a, b).sum()
        line = sys._getframe().f_lineno - 1
        with pytest.raises(RuntimeError) as info:
            y.backward()
    message = str(info.value)
    assert message.startswith("Poison.backward returned NaN in its gradient for input 1")
    assert "{}:{}:".format(HERE, line) in message


def test_nodes_a_buggy_apply_leaves_do_not_crash_the_tools(student_engine, capsys):
    """An apply that stores tensors, not nodes, in next_functions: drawn as what they are."""
    e, a, c = worked_example()
    e.grad_fn.next_functions = (Tensor(np.ones(2)), "oops")
    source = viz.to_dot(e)
    assert "Tensor\\n(2,)" in source and 'label="str"' in source
    viz.show(e)
    assert capsys.readouterr().out.splitlines() == ["Add", "+-- Tensor (2,)", "`-- str"]
