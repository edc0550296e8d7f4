"""Anomaly mode (mytorch.detect_anomaly): the op and the line that first made NaN or inf."""
import os
import sys
import threading

import numpy as np
import pytest

import mytorch
import mytorch.nn.functional as F
from mytorch import Tensor
from mytorch.autograd_engine import ContextManager, Function
from mytorch.nn.linear import Linear
from mytorch.nn.sequential import Sequential

HERE = os.path.basename(__file__)


def line_above():
    """The line number just above the caller's call of this function."""
    return sys._getframe(1).f_lineno - 1


class NaNGradient(Function):
    """Identity forward whose backward returns NaN for input ``ctx.bad``."""

    @staticmethod
    def forward(ctx, a, b):
        return Tensor(a.data + b.data)

    @staticmethod
    def backward(ctx, grad_output):
        good = grad_output.data
        bad = np.full_like(good, np.nan)
        return (Tensor(good), Tensor(bad)) if ctx.bad == 1 else (Tensor(bad), Tensor(good))


@pytest.fixture(autouse=True)
def anomaly_off_afterwards():
    yield
    assert not mytorch.is_anomaly_enabled(), "a test left anomaly mode on"


# --------------------------------------------------------------------------- #
# Backward
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("bad", [0, 1])
def test_backward_returning_nan_names_the_function_input_and_line(bad):
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    with mytorch.detect_anomaly():
        out = NaNGradient.apply(a, b)
        line = line_above()
        out.grad_fn.ctx.bad = bad
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
    message = str(info.value)
    assert message.startswith("NaNGradient.backward returned NaN in its gradient for input {} "
                              "(3 of 3 elements".format(bad))
    assert "{}:{}:  out = NaNGradient.apply(a, b)".format(HERE, line) in message
    assert "incoming gradient was finite" in message


def test_backward_returning_inf_from_sqrt_at_zero():
    x = Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with mytorch.detect_anomaly():
        y = (x ** 0.5).sum()
        line = line_above()
        with pytest.raises(RuntimeError) as info:
            with np.errstate(divide="ignore"):
                y.backward()
    message = str(info.value)
    assert message.startswith("Pow.backward returned inf in its gradient for input 0 "
                              "(1 of 2 elements, the first at index (1,))")
    assert "{}:{}".format(HERE, line) in message


def test_backward_of_an_op_made_before_anomaly_mode_still_names_it():
    a = Tensor(np.ones(2), requires_grad=True)
    out = NaNGradient.apply(a, Tensor(np.ones(2), requires_grad=True))
    out.grad_fn.ctx.bad = 0
    with mytorch.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"NaNGradient\.backward returned NaN .* input 0 "
                                               r".*while anomaly mode was off"):
            out.sum().backward()


def test_a_nan_seed_is_reported_as_incoming():
    x = Tensor(np.ones(2), requires_grad=True)
    with mytorch.detect_anomaly():
        y = x * 2
        with pytest.raises(RuntimeError, match="Mul.backward returned NaN.*already had NaN"):
            y.backward(np.array([1.0, np.nan]))


# --------------------------------------------------------------------------- #
# Forward
# --------------------------------------------------------------------------- #
def test_forward_log_of_a_negative_number_raises_at_once():
    x = Tensor(np.array([1.0, -1.0, 2.0]), requires_grad=True)
    with mytorch.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            with np.errstate(invalid="ignore"):
                x.log()
        line = line_above()
    message = str(info.value)
    assert message.startswith("Log.forward turned finite inputs into NaN (1 of 3 elements, the "
                              "first at index (1,), where input 0 is -1.0)")
    assert "{}:{}:  x.log()".format(HERE, line) in message


def test_forward_overflow_to_inf_raises():
    with mytorch.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Exp\.forward turned finite inputs into inf"):
            with np.errstate(over="ignore"):
                Tensor([1.0, 1000.0]).exp()          # constants are checked too


def test_the_line_is_the_users_not_the_librarys():
    """The op runs in Linear.forward and Sequential.forward (mytorch/): the line is model(x)."""
    model = Sequential(Linear(2, 2))
    model.layers[0].weight.data = np.array([[1e308, 0.0], [0.0, 1.0]])
    with mytorch.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            with np.errstate(over="ignore"):
                model(Tensor(np.full((1, 2), 10.0)))
        line = line_above()
    assert str(info.value).startswith("Linear.forward turned finite inputs into inf")
    assert "{}:{}:  model(Tensor".format(HERE, line) in str(info.value)


def test_nan_in_nan_out_is_not_the_ops_fault():
    with mytorch.detect_anomaly():
        out = Tensor([np.nan, 1.0], requires_grad=True) * 2
    assert np.isnan(out.data[0])


def test_nan_in_the_data_is_not_blamed_on_the_op_in_backward_either():
    """x holds NaN from the start: Mul passes it on, forward and backward, and is not blamed."""
    x = Tensor(np.array([np.nan, 1.0]))
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    with mytorch.detect_anomaly():
        loss = (x * w).sum()
        loss.backward()                                    # dloss/dw = x: NaN, from the data
    assert np.isnan(w.grad.data[0]) and w.grad.data[1] == 1.0


def test_nan_in_the_data_of_an_op_made_before_anomaly_mode_is_not_blamed_either():
    x = Tensor(np.array([np.inf, 1.0]))
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        loss = (x * w * 0.0).sum()                         # inf * 0: NaN from the data
        with mytorch.detect_anomaly():
            loss.backward()
    assert np.isnan(w.grad.data[0])


def test_nan_in_the_data_does_not_hide_an_op_that_makes_its_own():
    x = Tensor(np.array([np.nan, 1.0]))
    w = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with mytorch.detect_anomaly():
        loss = (x * w).sum() + (w ** 0.5).sum()       # sqrt's derivative at 0 is inf
        with pytest.raises(RuntimeError, match=r"^Pow\.backward returned inf .*was finite"):
            with np.errstate(divide="ignore"):
                loss.backward()


def test_finite_results_pass_unchanged():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))

    def step():
        np.random.seed(0)
        model = Sequential(Linear(3, 5), Linear(5, 2))
        t = Tensor(x, requires_grad=True)
        loss = F.cross_entropy(model(t), np.array([0, 1, 1, 0]))
        loss.backward()
        return loss.data, t.grad.data, [p.grad.data for p in model.parameters()]

    plain = step()
    with mytorch.detect_anomaly():
        checked = step()
    np.testing.assert_array_equal(plain[0], checked[0])
    np.testing.assert_array_equal(plain[1], checked[1])
    for p, c in zip(plain[2], checked[2]):
        np.testing.assert_array_equal(p, c)


def test_direct_forward_and_backward_calls_work_in_anomaly_mode():
    """The handout's (and the autograder's) way of testing one op: a bare ctx."""
    with mytorch.detect_anomaly():
        ctx = ContextManager()
        out = F.Mul.forward(ctx, Tensor([2.0]), Tensor([3.0]))
        grads = F.Mul.backward(ctx, Tensor([1.0]))
    assert out.data.tolist() == [6.0] and [g.data.tolist() for g in grads] == [[3.0], [2.0]]


# --------------------------------------------------------------------------- #
# Off: NaN propagates as in PyTorch, and the ops are exactly the ops
# --------------------------------------------------------------------------- #
def test_outside_anomaly_mode_nan_propagates_and_nothing_raises():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = x.log() * 2                              # log(-1) = NaN
        z = Tensor(np.array([0.0]), requires_grad=True)
        w = (z ** 0.5) * 0                           # d/dz = 0 * inf = NaN
        y.sum().backward()
        w.sum().backward()
    assert y.data[0] == 0.0 and np.isnan(y.data[1])
    np.testing.assert_array_equal(x.grad.data, [2.0, -2.0])     # 2 / x, as in PyTorch
    assert np.isnan(z.grad.data[0])


def test_outside_anomaly_mode_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([1.0, -1.0, 0.0])
    x = Tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (x.log() * 2 + x ** 0.5).sum()
        y.backward()
    ty = (tx.log() * 2 + tx ** 0.5).sum()
    ty.backward()
    np.testing.assert_array_equal(np.isnan(y.data), torch.isnan(ty).numpy())
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())    # NaN and inf where torch has


def test_switching_on_and_off():
    assert not mytorch.is_anomaly_enabled()
    original = F.Log.__dict__["forward"]
    mytorch.set_detect_anomaly(True)
    try:
        assert mytorch.is_anomaly_enabled()
        assert F.Log.__dict__["forward"] is not original
        mytorch.set_detect_anomaly(True)                        # twice: wrapped once
        with pytest.raises(RuntimeError, match="Log.forward"):
            with np.errstate(invalid="ignore"):
                Tensor([-1.0]).log()
    finally:
        mytorch.set_detect_anomaly(False)
    assert F.Log.__dict__["forward"] is original
    with np.errstate(invalid="ignore"):
        Tensor([-1.0]).log()                                     # no error when off


def test_detect_anomaly_restores_the_previous_state_even_on_error():
    with mytorch.detect_anomaly():
        with mytorch.detect_anomaly():
            pass
        assert mytorch.is_anomaly_enabled(), "the outer block is still on"
    assert not mytorch.is_anomaly_enabled()
    with pytest.raises(KeyError):
        with mytorch.detect_anomaly():
            raise KeyError
    assert not mytorch.is_anomaly_enabled()


@pytest.mark.parametrize("mode", ["False", "True", 0, 1, None, np.array([True, False])])
def test_set_detect_anomaly_requires_a_bool_as_pytorch_does(mode):
    with pytest.raises(TypeError) as info:
        mytorch.set_detect_anomaly(mode)
    assert "must be True or False" in str(info.value)
    assert type(mode).__name__ in str(info.value)
    assert not mytorch.is_anomaly_enabled()
    mytorch.set_detect_anomaly(np.bool_(False))             # NumPy's bool is a bool


def run_in_two_threads(first, second):
    """Run ``first`` and ``second`` in threads of their own; re-raise what either raised."""
    errors = []

    def run(body):
        try:
            body()
        except BaseException as error:                      # noqa: B902 (reported below)
            errors.append(error)
    threads = [threading.Thread(target=run, args=(body,)) for body in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive(), "a thread hangs"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("first_to_leave", ["first", "second"])
def test_overlapping_blocks_in_two_threads_leave_it_off(first_to_leave):
    first_in, second_in, one_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with mytorch.detect_anomaly():
            first_in.set()
            assert second_in.wait(5)
            if first_to_leave == "second":
                assert one_left.wait(5)
                seen["after the other left"] = mytorch.is_anomaly_enabled()
        if first_to_leave == "first":
            one_left.set()

    def second():
        assert first_in.wait(5)
        with mytorch.detect_anomaly():
            second_in.set()
            if first_to_leave == "first":
                assert one_left.wait(5)
                seen["after the other left"] = mytorch.is_anomaly_enabled()
        if first_to_leave == "second":
            one_left.set()

    run_in_two_threads(first, second)
    assert seen == {"after the other left": True}, "on while a block is still running"
    assert not mytorch.is_anomaly_enabled()


def test_a_block_checks_the_ops_of_every_thread_while_it_runs():
    inside, checked = threading.Event(), threading.Event()
    raised = []

    def block():
        with mytorch.detect_anomaly():
            inside.set()
            assert checked.wait(5)

    def other_thread():
        assert inside.wait(5)
        try:
            with np.errstate(invalid="ignore"):
                Tensor([-1.0]).log()
        except RuntimeError as error:
            raised.append(str(error))
        checked.set()

    run_in_two_threads(block, other_thread)
    assert len(raised) == 1 and raised[0].startswith("Log.forward turned finite inputs into NaN")


def test_set_detect_anomaly_inside_a_block_holds_after_it():
    with mytorch.detect_anomaly():
        mytorch.set_detect_anomaly(True)
    assert mytorch.is_anomaly_enabled(), "switched on for the rest of the program"
    with mytorch.detect_anomaly():
        mytorch.set_detect_anomaly(False)
        assert mytorch.is_anomaly_enabled(), "the block still runs"
    assert not mytorch.is_anomaly_enabled()


def every_function_class():
    found, stack = [], [Function]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def test_off_leaves_every_op_exactly_as_defined():
    before = {(cls, name): cls.__dict__.get(name) for cls in every_function_class()
              for name in ("forward", "backward")}
    with mytorch.detect_anomaly():
        during = {key: key[0].__dict__.get(key[1]) for key in before}
        assert during[(F.Add, "forward")] is not before[(F.Add, "forward")]
        assert during[(F.CrossEntropy, "backward")] is not before[(F.CrossEntropy, "backward")]
    after = {key: key[0].__dict__.get(key[1]) for key in before}
    assert all(after[key] is before[key] for key in before)


def test_a_function_defined_in_anomaly_mode_is_checked_then_unwrapped():
    with mytorch.detect_anomaly():
        class Broken(Function):
            @staticmethod
            def forward(ctx, a):
                return Tensor(a.data / 0.0)

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output

        original = Broken.__dict__["forward"].__func__.__wrapped__
        with pytest.raises(RuntimeError, match=r"Broken\.forward turned finite inputs into inf"):
            with np.errstate(divide="ignore"):
                Broken.apply(Tensor([1.0], requires_grad=True))
    assert Broken.__dict__["forward"].__func__ is original
