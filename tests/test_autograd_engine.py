"""The autograd engine: graph nodes (Appendix A), Function.apply, backward order and
memory, saved-tensor safety, no_grad, and the errors a broken Function triggers."""
import sys

import numpy as np
import pytest

import mytorch
import mytorch.nn.functional as F
from mytorch import Tensor, no_grad
from mytorch.autograd_engine import (AccumulateGrad, BackwardFunction, ContextManager,
                                     Function, backward)


# --------------------------------------------------------------------------- #
# Helper Functions
# --------------------------------------------------------------------------- #
class Square(Function):
    """x**2 written as a custom Function; counts its backward calls."""
    calls = 0
    grads_seen = []

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return Tensor(a.data ** 2)

    @staticmethod
    def backward(ctx, grad_output):
        Square.calls += 1
        Square.grads_seen.append(grad_output.data.copy())
        (a,) = ctx.saved_tensors
        return Tensor(2 * a.data * grad_output.data)


@pytest.fixture
def square():
    Square.calls, Square.grads_seen = 0, []
    return Square


# --------------------------------------------------------------------------- #
# Node classes
# --------------------------------------------------------------------------- #
def test_accumulate_grad_node_interface():
    x = Tensor(np.zeros(3), requires_grad=True)
    node = AccumulateGrad(x)
    assert node.variable is x
    assert node.next_functions == [] or node.next_functions == ()
    assert node.function_name == "AccumulateGrad"
    node.apply(Tensor(np.array([1.0, 2.0, 3.0])))
    node.apply(Tensor(np.array([10.0, 20.0, 30.0])))
    np.testing.assert_array_equal(x.grad.data, [11.0, 22.0, 33.0])


def test_accumulate_grad_copies_the_first_gradient():
    """The incoming array can be shared with the caller's seed or other leaves."""
    x = Tensor(np.zeros(3), requires_grad=True)
    seed = np.array([1.0, 2.0, 3.0])
    (x + 0).backward(seed)
    seed[:] = -99.0
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])


def test_leaves_receiving_the_same_gradient_do_not_share_grad_arrays():
    a = Tensor(np.zeros(2), requires_grad=True)
    b = Tensor(np.zeros(2), requires_grad=True)
    (a + b).sum().backward()                 # Add passes one gradient to both
    (a * 5).sum().backward()                 # accumulate into a only
    np.testing.assert_array_equal(a.grad.data, [6.0, 6.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


class SameArrayTwice(Function):
    """a + b whose backward hands one fresh array (or a view of it) to both inputs."""
    returned = []

    @staticmethod
    def forward(ctx, a, b, second_is_view=False):
        ctx.second_is_view = second_is_view
        return Tensor(a.data + b.data)

    @staticmethod
    def backward(ctx, grad_output):
        fresh = grad_output.data * 1.0
        SameArrayTwice.returned = [fresh]
        return Tensor(fresh), Tensor(fresh.view() if ctx.second_is_view else fresh), None


@pytest.mark.parametrize("second_is_view", [False, True])
def test_one_fresh_array_for_two_leaves_becomes_two_grads(second_is_view):
    a = Tensor(np.zeros(3), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    SameArrayTwice.apply(a, b, second_is_view).sum().backward()
    a.grad.data *= 2                         # an in-place edit of one leaf's gradient...
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0, 1.0])      # ...leaves the other alone
    assert not np.shares_memory(a.grad.data, b.grad.data)


def test_unshared_first_gradient_is_kept_without_a_copy():
    a = Tensor(np.zeros(3), requires_grad=True)
    SameArrayTwice.apply(a, Tensor(np.zeros(3))).sum().backward()    # b needs no gradient
    assert a.grad.data is SameArrayTwice.returned[0]


def test_read_only_gradient_is_copied_into_a_writable_grad():
    class Broadcasting(Function):
        @staticmethod
        def forward(ctx, a):
            return Tensor(a.data * 1.0)

        @staticmethod
        def backward(ctx, grad_output):
            return Tensor(np.broadcast_to(grad_output.data.sum(), (3,)))   # a read-only view

    a = Tensor(np.zeros(3), requires_grad=True)
    Broadcasting.apply(a).sum().backward()
    a.grad.data *= 2
    np.testing.assert_array_equal(a.grad.data, [6.0, 6.0, 6.0])


def test_array_kept_by_a_leaf_and_queued_for_a_node_is_not_overwritten():
    # SameArrayTwice hands one array to the leaf x (which keeps it as x.grad) and to the
    # node v = x * 3 + x * 5, whose Add passes it on to both products.  Each product then
    # sends x a contribution; had the first been added into x.grad in place, the second
    # product would read 1 + 5 (or 1 + 3) instead of 1.
    x = Tensor(np.zeros(2), requires_grad=True)
    v = x * 3 + x * 5
    SameArrayTwice.apply(x, v).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [9.0, 9.0])      # 1 + 3 + 5


def test_backward_function_node_interface():
    node = BackwardFunction(F.Mul)
    assert isinstance(node.ctx, ContextManager)
    assert node.function_name == "Mul"
    assert list(node.next_functions) == []


def test_context_manager_saves_tensors_without_copying():
    a, b = Tensor(np.ones(2)), Tensor(np.zeros(3))
    ctx = ContextManager()
    ctx.save_for_backward(a, b)
    saved = ctx.saved_tensors
    assert len(saved) == 2 and saved[0] is a and saved[1] is b


@pytest.mark.parametrize("bad", [3, 2.0, np.ones(2), None, "x"])
def test_save_for_backward_rejects_non_tensors(bad):
    ctx = ContextManager()
    with pytest.raises(Exception, match="Only Tensors should be saved in save_for_backward"):
        ctx.save_for_backward(Tensor(1.0), bad)


def test_function_apply_runs_forward_and_links_node():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]))
    out = F.Mul.apply(a, b)
    np.testing.assert_array_equal(out.data, [3.0, 8.0])
    assert isinstance(out.grad_fn, BackwardFunction)
    assert out.grad_fn.function_name == "Mul"
    assert isinstance(out.grad_fn.ctx, ContextManager)
    first, second = out.grad_fn.next_functions
    assert isinstance(first, AccumulateGrad) and first.variable is a
    assert second is None


def test_node_reprs_read_like_the_handouts_figures():
    """Worked example (section 0.1): d = a*b + a; e = (d + c) + 3."""
    a, b, c = Tensor(1., requires_grad=True), Tensor(2.), Tensor(3., requires_grad=True)
    d = a * b + a
    e = (d + c) + 3
    assert repr(e.grad_fn) == "<BackwardFunction Add>"
    assert repr(e.grad_fn.next_functions) == "[<BackwardFunction Add>, None]"
    assert repr(e.grad_fn.next_functions[0].next_functions) == \
        "[<BackwardFunction Add>, <AccumulateGrad shape=()>]"
    assert repr(d.grad_fn.next_functions) == "[<BackwardFunction Mul>, <AccumulateGrad shape=()>]"
    assert repr(d.grad_fn.next_functions[0].next_functions) == "[<AccumulateGrad shape=()>, None]"
    assert repr(d) == "tensor(3., grad_fn=<Add>)"                      # Tensor keeps its form
    assert repr(a * b) == "tensor(2., grad_fn=<Mul>)"


def test_accumulate_grad_repr_names_its_leafs_shape():
    w = Tensor(np.zeros((20, 784)), requires_grad=True)
    assert repr(AccumulateGrad(w)) == "<AccumulateGrad shape=(20, 784)>"


def test_context_manager_repr_lists_what_it_saved():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones(3))
    assert repr((a * b).grad_fn.ctx) == "<ContextManager saved: tensor (2, 3), tensor (3,)>"
    assert repr((a + b).grad_fn.ctx) == "<ContextManager saved: shapes=((2, 3), (3,))>"
    assert repr(a.relu().grad_fn.ctx) == "<ContextManager saved: mask=array (2, 3) bool>"
    assert repr(a.sum(axis=1).grad_fn.ctx) == \
        "<ContextManager saved: shape=(2, 3), axis=1, keepdims=False>"
    assert repr(ContextManager()) == "<ContextManager saved: nothing>"


def test_context_manager_repr_does_not_raise_for_a_tensor_edited_since():
    a = Tensor(np.ones(2), requires_grad=True)
    ctx = (a * a).grad_fn.ctx
    a.data = a.data + 1                  # saved_tensors would now raise
    assert repr(ctx) == "<ContextManager saved: tensor (2,), tensor (2,)>"


def test_engine_backward_function_called_directly():
    """Handout API: backward(grad_fn, grad_of_outputs)."""
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = a * a
    backward(out.grad_fn, Tensor(np.array([1.0, 10.0])))
    np.testing.assert_array_equal(a.grad.data, [2.0, 40.0])


# --------------------------------------------------------------------------- #
# Appendix A node rules
# --------------------------------------------------------------------------- #
def test_leaf_gets_one_accumulate_grad_node_shared_by_all_its_ops():
    x = Tensor(np.ones(3), requires_grad=True)
    y1 = x * 2
    y2 = x + 1
    node1 = y1.grad_fn.next_functions[0]
    node2 = y2.grad_fn.next_functions[0]
    assert isinstance(node1, AccumulateGrad)
    assert node1 is node2
    assert node1.variable is x


def test_non_leaf_parent_is_its_backward_function():
    x = Tensor(np.ones(3), requires_grad=True)
    h = x * 2
    y = h + 1
    assert y.grad_fn.next_functions[0] is h.grad_fn
    assert isinstance(h.grad_fn, BackwardFunction)


def test_constant_parent_is_none():
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.ones(3))
    y = x * c
    z = c - x
    assert y.grad_fn.next_functions[1] is None
    assert z.grad_fn.next_functions[0] is None
    assert c.grad_fn is None


@pytest.mark.parametrize("a_requires, b_requires", [(False, False), (True, False),
                                                    (False, True), (True, True)])
def test_output_requires_grad_iff_an_input_does(a_requires, b_requires):
    a = Tensor(np.ones(2), requires_grad=a_requires)
    b = Tensor(np.ones(2), requires_grad=b_requires)
    out = a * b
    if a_requires or b_requires:
        assert out.requires_grad is True
        assert out.is_leaf is False
        assert isinstance(out.grad_fn, BackwardFunction)
    else:
        assert out.requires_grad is False
        assert out.is_leaf is True
        assert out.grad_fn is None


def test_handout_worked_example_graph_and_gradients():
    """Section 0.1: d = a*b + a; e = (d + c) + 3."""
    a = Tensor(1.0, requires_grad=True)
    b = Tensor(2.0)
    c = Tensor(3.0, requires_grad=True)
    d = a * b + a
    e = (d + c) + 3
    assert e.data == 9.0
    add_3, const_3 = e.grad_fn.next_functions
    assert const_3 is None
    assert add_3.next_functions[0] is d.grad_fn
    assert add_3.next_functions[1] is c.grad_fn and isinstance(c.grad_fn, AccumulateGrad)
    mul_node, a_node = d.grad_fn.next_functions
    assert a_node.variable is a and mul_node.next_functions[0] is a_node
    assert mul_node.next_functions[1] is None
    e.backward()
    assert a.grad.data == 3.0                # b + 1
    assert b.grad is None
    assert c.grad.data == 1.0
    assert d.grad is None


# --------------------------------------------------------------------------- #
# Order: each node runs once, after all its gradient contributions are summed
# --------------------------------------------------------------------------- #
def test_diamond_graph_runs_shared_node_once_with_summed_gradient(square):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = square.apply(x)
    long_path = (h * 2) * 3                 # two ops deep
    y = long_path + h * 5                   # one op deep
    y.sum().backward()
    assert square.calls == 1
    np.testing.assert_array_equal(square.grads_seen[0], [11.0, 11.0])
    np.testing.assert_array_equal(x.grad.data, 11.0 * 2 * x.data)


def test_repeated_doubling_visits_each_node_once():
    """y = y + y twenty times: 2**20 paths, but only 20 Add nodes to run."""
    calls = []

    class CountingAdd(F.Add):
        @staticmethod
        def backward(ctx, grad_output):
            calls.append(1)
            return F.Add.backward(ctx, grad_output)

    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20):
        y = CountingAdd.apply(y, y)
    assert y.data == 2.0 ** 20
    y.backward()
    assert len(calls) == 20
    assert x.grad.data == 2.0 ** 20


def test_long_chain_backprops_without_recursion_error():
    """100,001 ops deep at Python's default recursion limit: the engine must not recurse."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        x = Tensor(2.0, requires_grad=True)
        y = x
        for _ in range(100_001):            # odd number of negations
            y = -y
        y.backward()
        assert x.grad.data == -1.0
        del y
    finally:
        sys.setrecursionlimit(previous)


# --------------------------------------------------------------------------- #
# needs_input_grad
# --------------------------------------------------------------------------- #
def test_ctx_needs_input_grad_is_set_by_apply():
    x = Tensor(np.ones((2, 3)))
    w = Tensor(np.ones((3, 4)), requires_grad=True)
    needs = F.MatMul.apply(x, w).grad_fn.ctx.needs_input_grad
    assert (bool(needs[0]), bool(needs[1])) == (False, True)
    needs = F.Pow.apply(w, 2).grad_fn.ctx.needs_input_grad
    assert (bool(needs[0]), bool(needs[1])) == (True, False)


@pytest.mark.parametrize("op", [F.Add, F.Sub, F.Mul, F.Div, F.MatMul])
@pytest.mark.parametrize("constant_index", [0, 1])
def test_op_computes_no_gradient_for_constant_input(op, constant_index):
    returned = []

    class Spy(op):
        @staticmethod
        def backward(ctx, grad_output):
            grads = op.backward(ctx, grad_output)
            returned.append(grads)
            return grads

    values = [np.full((2, 2), 2.0), np.full((2, 2), 3.0)]
    inputs = [Tensor(v, requires_grad=(i != constant_index)) for i, v in enumerate(values)]
    Spy.apply(*inputs).sum().backward()
    (grads,) = returned
    assert grads[constant_index] is None
    assert grads[1 - constant_index] is not None
    assert inputs[constant_index].grad is None


# --------------------------------------------------------------------------- #
# Saved tensors: freed after backward, retain_graph
# --------------------------------------------------------------------------- #
def test_saved_tensors_are_freed_after_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    w = Tensor(np.full(3, 2.0), requires_grad=True)
    h = x * w
    e = h.exp()
    loss = e.sum()
    loss.backward()
    for node in (h.grad_fn, e.grad_fn, loss.grad_fn):
        assert node.ctx is None


def test_second_backward_on_freed_graph_raises_mentioning_retain_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_second_backward_which_accumulates():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    assert loss.grad_fn.ctx is not None
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * (2 * x.data))
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


# --------------------------------------------------------------------------- #
# In-place edits of saved tensors are caught, never silently used
# --------------------------------------------------------------------------- #
def _assign_doubled(t):
    t.data = t.data * 2


def _add_in_place(t):
    t.data += 1


def _fill_zero(t):
    t.fill_(0)


EDITS = [_assign_doubled, _add_in_place, _fill_zero]


def test_saved_tensors_are_the_inputs_themselves():
    x = Tensor(np.ones(3), requires_grad=True)
    w = Tensor(np.ones(3), requires_grad=True)
    y = x * w
    saved = y.grad_fn.ctx.saved_tensors
    assert saved[0] is x and saved[1] is w


@pytest.mark.parametrize("edit", EDITS)
def test_editing_saved_input_before_backward_raises(edit):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = x * w
    edit(w)
    with pytest.raises(RuntimeError, match="in place|in-place"):
        y.sum().backward()


@pytest.mark.parametrize("edit", EDITS)
def test_editing_saved_output_before_backward_raises(edit):
    """Exp saves its output; editing the output must be caught as well."""
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = x.exp()
    loss = y.sum()
    edit(y)
    with pytest.raises(RuntimeError, match="in place|in-place"):
        loss.backward()


@pytest.mark.parametrize("edit", EDITS)
def test_editing_base_of_saved_transpose_view_raises(edit):
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    w = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x @ w.T()
    edit(w)
    with pytest.raises(RuntimeError, match="in place|in-place"):
        y.sum().backward()


def test_editing_view_of_saved_tensor_raises():
    x = Tensor(np.ones(6), requires_grad=True)
    w = Tensor(np.arange(6.0), requires_grad=True)
    view = w.reshape(2, 3)
    y = x * w
    view.data += 1                           # changes w's memory
    with pytest.raises(RuntimeError, match="in place|in-place"):
        y.sum().backward()


def test_editing_after_backward_is_allowed():
    """The optimizer pattern: backward, update in place, forward again."""
    x = Tensor(np.array([1.0, 2.0]))
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    for _ in range(2):
        (x * w).sum().backward()
        w.data -= 0.5 * w.grad.data
        w.grad = None
    np.testing.assert_array_equal(w.data, [3.0 - 0.5 - 0.5, 4.0 - 1.0 - 1.0])


# --------------------------------------------------------------------------- #
# no_grad
# --------------------------------------------------------------------------- #
def test_no_grad_records_no_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = x * 2 + 1
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert y.is_leaf is True
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_restores_recording_after_exception():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert mytorch.is_grad_enabled()
    y = x * 2
    assert y.requires_grad and y.grad_fn is not None


def test_no_grad_nests():
    with no_grad():
        with no_grad():
            pass
        assert not mytorch.is_grad_enabled()
    assert mytorch.is_grad_enabled()


# --------------------------------------------------------------------------- #
# A broken Function is reported by name
# --------------------------------------------------------------------------- #
class TooManyGrads(Function):
    @staticmethod
    def forward(ctx, a):
        return Tensor(a.data * 2)

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(grad_output.data * 2), Tensor(grad_output.data)


class TooFewGrads(Function):
    @staticmethod
    def forward(ctx, a, b):
        return Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        return (Tensor(grad_output.data),)


class WrongShapeGrad(Function):
    @staticmethod
    def forward(ctx, a):
        return Tensor(a.data.sum(axis=0))

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(grad_output.data)      # (3,) for an input of shape (2, 3)


def test_backward_returning_too_many_gradients_names_the_function():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        TooManyGrads.apply(x).sum().backward()
    assert "TooManyGrads" in str(info.value)
    assert "2" in str(info.value) and "1" in str(info.value)


def test_backward_returning_too_few_gradients_names_the_function():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        TooFewGrads.apply(a, b).sum().backward()
    assert "TooFewGrads" in str(info.value)


def test_backward_returning_wrong_shape_names_function_and_shapes():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as info:
        WrongShapeGrad.apply(x).sum().backward()
    message = str(info.value)
    assert "WrongShapeGrad" in message
    assert "(3,)" in message and "(2, 3)" in message
    assert x.grad is None
