"""Tensor: construction, attributes, constructors, operators and Tensor.backward().

Expected values come from NumPy formulas or hand-derived derivatives.
"""
import contextlib

import numpy as np
import pytest

import mytorch
from mytorch import Tensor


# --------------------------------------------------------------------------- #
# Construction and attributes
# --------------------------------------------------------------------------- #
def test_constructor_defaults_match_appendix_a():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(t.data, np.ndarray)
    np.testing.assert_array_equal(t.data, [[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2)
    assert t.grad is None
    assert t.grad_fn is None
    assert t.requires_grad is False
    assert t.is_leaf is True
    assert t.is_parameter is False


def test_constructor_stores_flags():
    t = Tensor(np.zeros(3), requires_grad=True, is_leaf=True, is_parameter=True)
    assert t.requires_grad is True
    assert t.is_leaf is True
    assert t.is_parameter is True


def test_parameter_must_require_grad():
    """Appendix A.2: is_parameter=True implies requires_grad=True and is_leaf=True."""
    with pytest.raises(ValueError, match="parameter"):
        Tensor(np.zeros(3), requires_grad=False, is_parameter=True)


@pytest.mark.parametrize("value, shape", [
    (3.0, ()),
    (7, ()),
    ([1, 2, 3], (3,)),
    ([[1.0], [2.0]], (2, 1)),
    (np.float32(2.5), ()),
    (np.arange(24.0).reshape(2, 3, 4), (2, 3, 4)),
])
def test_numeric_data_of_any_form_is_accepted(value, shape):
    t = Tensor(value)
    assert t.shape == shape
    np.testing.assert_array_equal(t.data, np.asarray(value))


def test_ndarray_data_is_used_without_copy():
    array = np.arange(4.0)
    assert Tensor(array).data is array


def test_integer_data_requiring_grad_becomes_float():
    """Gradients are real numbers: an int leaf that requires grad must hold floats."""
    t = Tensor([1, 2, 3], requires_grad=True)
    assert t.data.dtype.kind == "f"
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("bad", [
    "abc",
    None,
    {"a": 1},
    [[1, 2], [3]],                  # ragged
    [1, "a"],
    object(),
    np.array(["x", "y"]),
], ids=["str", "None", "dict", "ragged", "mixed-list", "object", "str-ndarray"])
def test_non_numeric_data_raises_type_error(bad):
    with pytest.raises(TypeError, match="(?i)numer|number"):
        Tensor(bad)


def test_assigning_non_numeric_data_raises_type_error():
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="(?i)numer|number"):
        t.data = "not numbers"


# --------------------------------------------------------------------------- #
# Constructors, copy, fill_
# --------------------------------------------------------------------------- #
def test_zeros_ones_empty_have_requested_shape():
    z = Tensor.zeros(2, 3)
    o = Tensor.ones(4)
    e = Tensor.empty(3, 1, 2)
    assert isinstance(z, Tensor) and isinstance(o, Tensor) and isinstance(e, Tensor)
    assert z.shape == (2, 3) and o.shape == (4,) and e.shape == (3, 1, 2)
    np.testing.assert_array_equal(z.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(o.data, np.ones(4))
    for t in (z, o, e):
        assert t.requires_grad is False and t.is_leaf is True and t.grad_fn is None


@pytest.mark.parametrize("make", ["zeros", "ones", "randn", "empty"])
@pytest.mark.parametrize("shape", [(2, 3), [2, 3], (np.int64(2), 3)])
def test_constructors_take_a_shape_tuple_or_list_like_numpy_and_pytorch(make, shape):
    t = getattr(Tensor, make)(shape)
    assert isinstance(t, Tensor) and t.shape == (2, 3)
    assert getattr(Tensor, make)(*shape).shape == (2, 3)


@pytest.mark.parametrize("make", ["zeros", "ones", "randn", "empty"])
def test_constructors_without_dimensions_make_a_0d_tensor_and_one_tuple_of_one_int_is_1d(make):
    assert getattr(Tensor, make)().shape == ()
    assert getattr(Tensor, make)(()).shape == ()
    assert getattr(Tensor, make)((4,)).shape == (4,)


@pytest.mark.parametrize("args, error, words", [
    ((2.5, 3), TypeError, "Tensor.zeros: the shape must be ints, as in Tensor.zeros(2, 3) or "
                          "Tensor.zeros((2, 3)); got (2.5, 3)"),
    (((2, 3), 4), TypeError, "got ((2, 3), 4)"),
    (("3",), TypeError, "got ('3',)"),
    ((True, 2), TypeError, "got (True, 2)"),
    (((2, -1),), ValueError, "Tensor.zeros: dimensions cannot be negative, got shape (2, -1)"),
])
def test_constructors_reject_a_bad_shape_with_a_clear_error(args, error, words):
    with pytest.raises(error) as info:
        Tensor.zeros(*args)
    assert words in str(info.value)


def test_arange_follows_numpy_interval():
    np.testing.assert_array_equal(Tensor.arange(5).data, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(Tensor.arange(2, 9, 3).data, [2, 5, 8])


def test_randn_draws_standard_normal_of_requested_shape():
    t = Tensor.randn(200, 50)
    assert t.shape == (200, 50)
    assert t.data.dtype.kind == "f"
    # 10,000 draws: mean within ~5 standard errors of 0, std close to 1.
    assert abs(t.data.mean()) < 0.05
    assert abs(t.data.std() - 1.0) < 0.05


def test_copy_is_independent_and_outside_the_graph():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    c = x.copy()
    assert isinstance(c, Tensor)
    np.testing.assert_array_equal(c.data, [1.0, 2.0, 3.0])
    assert c.requires_grad is False and c.grad_fn is None and c.is_leaf is True
    c.data[0] = 100.0
    assert x.data[0] == 1.0


def test_fill_sets_every_element_in_place_and_returns_self():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    array = t.data
    assert t.fill_(7.5) is t
    np.testing.assert_array_equal(t.data, np.full((2, 3), 7.5))
    assert t.data is array


# --------------------------------------------------------------------------- #
# PyTorch habits: truth values, comparisons, len, np.array, updating by hand
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("values, size", [([1.0, 2.0], "2 values"), ([], "no values"),
                                          (np.ones((2, 2)), "4 values")])
def test_truth_value_of_a_tensor_without_exactly_one_value_is_ambiguous(values, size):
    t = Tensor(values)
    with pytest.raises(RuntimeError) as info:
        bool(t)
    message = str(info.value)
    assert "ambiguous" in message and size in message
    assert ".any()" in message and ".all()" in message and "t is u" in message
    with pytest.raises(RuntimeError, match="ambiguous"):
        if t:
            pass


@pytest.mark.parametrize("values, truth", [([0.0], False), ([2.0], True), (0.0, False),
                                           (-1, True), ([[0]], False), ([True], True)])
def test_truth_value_of_a_one_element_tensor_is_its_value(values, truth):
    assert bool(Tensor(values)) is truth
    assert (not Tensor(values)) is (not truth)


COMPARISONS = {
    "==": (lambda a, b: a == b, np.equal),
    "!=": (lambda a, b: a != b, np.not_equal),
    "<": (lambda a, b: a < b, np.less),
    "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater),
    ">=": (lambda a, b: a >= b, np.greater_equal),
}


@pytest.mark.parametrize("op", COMPARISONS)
@pytest.mark.parametrize("other", [np.array([1.0, 5.0, 2.0]), 2.0, 2, np.float64(2.0),
                                   [1.0, 5.0, 2.0], "tensor"],
                         ids=["ndarray", "float", "int", "np-scalar", "list", "Tensor"])
def test_comparisons_are_elementwise_boolean_tensors_outside_the_graph(op, other):
    apply, reference = COMPARISONS[op]
    x_value = np.array([1.0, 2.0, 4.0])
    x = Tensor(x_value, requires_grad=True)
    if isinstance(other, str):
        other = Tensor(np.array([1.0, 5.0, 2.0]), requires_grad=True)
    plain = other.data if isinstance(other, Tensor) else other
    for left_is_tensor in (True, False):
        out = apply(x, other) if left_is_tensor else apply(other, x)
        expected = reference(x_value, plain) if left_is_tensor else reference(plain, x_value)
        assert isinstance(out, Tensor), "{} returned {}".format(op, type(out).__name__)
        assert out.data.dtype == np.bool_
        np.testing.assert_array_equal(out.data, expected)
        assert out.requires_grad is False and out.grad_fn is None and out.is_leaf


def test_accuracy_the_usual_way():
    prediction, labels = Tensor([1, 2, 3, 0]), Tensor([1, 0, 3, 0])
    assert (prediction == labels).mean().item() == 0.75
    assert (prediction == labels).sum().item() == 3
    assert (Tensor(2.0) == 2.0).data.shape == () and bool(Tensor(2.0) == 2.0)


def test_comparing_shapes_that_do_not_broadcast_names_them():
    with pytest.raises(ValueError, match=r"==: shapes \(2,\) and \(3,\) cannot be broadcast"):
        Tensor([1.0, 2.0]) == Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"<: shapes \(2,\) and \(3,\)"):
        np.ones(3) > Tensor([1.0, 2.0])


def test_comparing_with_something_that_is_not_numbers_compares_identity():
    t = Tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True          # noqa: E711
    assert (t == "abc") is False and (t == object()) is False
    with pytest.raises(TypeError):
        t < None


def test_tensors_stay_hashable_by_identity_for_dicts_and_sets():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])            # equal values, two tensors
    names = {a: "a", b: "b"}
    assert names[a] == "a" and names[b] == "b" and len({a, b, a}) == 2
    assert a in {a} and b not in {a}
    assert hash(a) == hash(a) and hash(a) != hash(b)


def test_len_of_a_0d_tensor_says_it_is_0d():
    assert len(Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])) == 3
    with pytest.raises(TypeError, match="len.. of a 0-d Tensor"):
        len(Tensor(3.0))


def test_np_array_of_a_tensor_is_its_data():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    array = np.array(t)
    assert type(array) is np.ndarray and array.dtype == np.float64
    np.testing.assert_array_equal(array, t.data)
    array[0, 0] = 100.0
    assert t.data[0, 0] == 1.0, "np.array copies"
    assert np.asarray(t) is t.data, "np.asarray does not"
    assert np.array(t, dtype=np.float32).dtype == np.float32
    stacked = np.array([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])])
    assert stacked.dtype == np.float64 and stacked.shape == (2, 2)


def test_a_tensor_on_the_right_of_an_arrays_in_place_operator_says_use_its_data():
    p = Tensor(np.ones(3), requires_grad=True)
    p.grad = Tensor(np.full(3, 2.0))
    before = p.data.copy()
    with pytest.raises(TypeError) as info:
        p.data -= 0.1 * p.grad
    assert "p.grad.data" in str(info.value)
    np.testing.assert_array_equal(p.data, before)
    p.data -= 0.1 * p.grad.data                               # the advice
    np.testing.assert_allclose(p.data, [0.8, 0.8, 0.8])


def test_numpy_functions_that_do_not_take_a_tensor_say_what_to_do():
    with pytest.raises(TypeError, match=r"np\.exp does not take a Tensor.*t\.data"):
        np.exp(Tensor([1.0]))


IN_PLACE = {
    "+=": (lambda t, u: t.__iadd__(u), np.add),
    "-=": (lambda t, u: t.__isub__(u), np.subtract),
    "*=": (lambda t, u: t.__imul__(u), np.multiply),
    "/=": (lambda t, u: t.__itruediv__(u), np.true_divide),
}


def test_updating_parameters_by_hand_under_no_grad_edits_them_in_place():
    params = [Tensor(np.ones((2, 3)), requires_grad=True, is_parameter=True),
              Tensor(np.ones(3), requires_grad=True, is_parameter=True)]
    for p in params:
        p.grad = Tensor(np.full(p.shape, 2.0))
    arrays, versions = [p.data for p in params], [p._version[0] for p in params]
    with mytorch.no_grad():
        for p in params:
            p -= 0.1 * p.grad
    for p, array, version in zip(params, arrays, versions):
        np.testing.assert_allclose(p.data, np.full(p.shape, 0.8))
        assert p.data is array and p._version[0] == version + 1
        assert p.is_leaf and p.requires_grad and p.grad_fn is None and p.is_parameter


@pytest.mark.parametrize("op", IN_PLACE)
def test_in_place_operators_edit_the_same_tensor_and_its_views(op):
    apply, reference = IN_PLACE[op]
    for grad_mode in (mytorch.no_grad, contextlib.nullcontext):     # a constant: either way
        t = Tensor(np.array([[1.0, 2.0], [4.0, 8.0]]))
        view = t.T()
        with grad_mode():
            result = apply(t, Tensor([2.0, 4.0]))             # broadcasts to t's shape
        assert result is t
        np.testing.assert_array_equal(t.data, reference([[1.0, 2.0], [4.0, 8.0]], [2.0, 4.0]))
        np.testing.assert_array_equal(view.data, t.data.T)
        assert t._version[0] == 1 and view._version[0] == 1


def test_in_place_edit_of_a_parameter_with_grad_enabled_is_refused_as_in_pytorch():
    p = Tensor(np.ones(3), requires_grad=True, is_parameter=True)
    p.grad = Tensor(np.ones(3))
    with pytest.raises(RuntimeError) as info:
        p -= 0.1 * p.grad
    message = str(info.value)
    assert "leaf" in message and "no_grad()" in message and "p.grad.data" in message
    np.testing.assert_array_equal(p.data, np.ones(3))


def test_in_place_operator_on_a_tensor_in_the_graph_records_a_new_node():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    alias = y
    y += x                                                    # y = y + x, a new node
    assert y is not alias and y.grad_fn.function_name == "Add"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])


def test_accumulating_a_loss_into_a_constant_keeps_the_graph():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    total = Tensor(0.0)
    for scale in (1.0, 2.0):
        total += (w * scale).sum()
    total.backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_in_place_edit_of_a_tensor_saved_for_backward_is_caught():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([3.0, 4.0]))
    y = (x * c).sum()                                         # Mul saves c
    c *= 2
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_in_place_results_that_do_not_fit_say_why():
    ints = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"/=.*float64.*int64"):
        ints /= 2
    np.testing.assert_array_equal(ints.data, [1, 2])
    small = Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"\+=.*\(3, 2\).*\(2,\)"):
        small += np.ones((3, 2))
    assert small._version[0] == 0


# --------------------------------------------------------------------------- #
# Methods: T, reshape, log, exp, sum, mean
# --------------------------------------------------------------------------- #
def test_transpose_reverses_axes(rng):
    a = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(Tensor(a).T().data, a.T)


@pytest.mark.parametrize("shape_args, target", [
    ((3, 4), (3, 4)), (((3, 4),), (3, 4)), ((-1, 2), (6, 2)), ((12,), (12,)), (([2, 6],), (2, 6)),
])
def test_reshape_accepts_varargs_or_a_tuple(rng, shape_args, target):
    a = rng.standard_normal((2, 6))
    out = Tensor(a).reshape(*shape_args)
    assert out.shape == target
    np.testing.assert_array_equal(out.data, a.reshape(target))


def test_log_and_exp_values(rng):
    a = rng.uniform(0.1, 3.0, size=(3, 2))
    np.testing.assert_allclose(Tensor(a).log().data, np.log(a), rtol=1e-15)
    np.testing.assert_allclose(Tensor(a).exp().data, np.exp(a), rtol=1e-15)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_match_numpy(rng, axis, keepdims):
    a = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(Tensor(a).sum(axis, keepdims).data,
                               a.sum(axis=axis, keepdims=keepdims), rtol=1e-13)
    np.testing.assert_allclose(Tensor(a).mean(axis, keepdims).data,
                               a.mean(axis=axis, keepdims=keepdims), rtol=1e-13)


@pytest.mark.parametrize("axis, count", [(None, 24), (0, 2), (1, 3), ((1, 2), 12)])
def test_mean_gradient_is_one_over_count(axis, count):
    x = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    x.mean(axis=axis).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3, 4), 1.0 / count), rtol=1e-15)


# --------------------------------------------------------------------------- #
# Operators
# --------------------------------------------------------------------------- #
BINARY = {
    "+": (lambda a, b: a + b, np.add),
    "-": (lambda a, b: a - b, np.subtract),
    "*": (lambda a, b: a * b, np.multiply),
    "/": (lambda a, b: a / b, np.true_divide),
}


@pytest.mark.parametrize("op", BINARY)
def test_operator_between_tensors_matches_numpy(rng, op):
    apply, reference = BINARY[op]
    a, b = rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(0.5, 2.0, (3, 4))
    out = apply(Tensor(a), Tensor(b))
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-15)


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("other", [2.5, 3, np.array([0.5, 1.5, 2.5]), np.float64(4.0)],
                         ids=["float", "int", "ndarray", "np-scalar"])
def test_operator_with_non_tensor_on_either_side(op, other):
    """`t op 2`, `2 op t`, `t op ndarray` and `ndarray op t` all return Tensors in the graph."""
    apply, reference = BINARY[op]
    x_value = np.array([1.0, 2.0, 4.0])
    for left_is_tensor in (True, False):
        x = Tensor(x_value.copy(), requires_grad=True)
        out = apply(x, other) if left_is_tensor else apply(other, x)
        expected = reference(x_value, other) if left_is_tensor else reference(other, x_value)
        assert isinstance(out, Tensor), "{} returned {}".format(op, type(out).__name__)
        np.testing.assert_allclose(out.data, expected, rtol=1e-15)
        assert out.requires_grad and out.grad_fn is not None
        out.sum().backward()
        assert x.grad is not None and x.grad.shape == (3,)


def test_ndarray_on_the_left_gives_correct_gradients():
    x = Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    c = np.array([3.0, 5.0, 7.0])
    ((c + x) + (c - x) + (c * x) + (c / x)).sum().backward()
    # d/dx [ (c+x) + (c-x) + c*x + c/x ] = 1 - 1 + c - c/x**2
    np.testing.assert_allclose(x.grad.data, c - c / x.data ** 2, rtol=1e-14)


def test_ndarray_on_the_left_of_matmul_records_the_graph(rng):
    m = rng.standard_normal((2, 3))
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    out = m @ x
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, m @ x.data, rtol=1e-14)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, m.sum(axis=0), rtol=1e-14)


def test_unary_negation_and_power(rng):
    a = rng.uniform(0.5, 2.0, (2, 3))
    x = Tensor(a, requires_grad=True)
    np.testing.assert_array_equal((-x).data, -a)
    np.testing.assert_allclose((x ** 3).data, a ** 3, rtol=1e-15)
    np.testing.assert_allclose((x ** 0.5).data, np.sqrt(a), rtol=1e-15)
    ((-x) + x ** 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, -1.0 + 3 * a ** 2, rtol=1e-14)


def test_matmul_operator_matches_numpy(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b, rtol=1e-14)


# --------------------------------------------------------------------------- #
# Broadcasting: values like NumPy, gradients summed back to each input's shape
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((), (5,)),
    ((5,), ()),
    ((2, 1, 4), (3, 1)),
])
def test_broadcasting_gradient_has_each_inputs_shape(rng, op, shape_a, shape_b):
    apply, reference = BINARY[op]
    a_value = rng.uniform(0.5, 2.0, shape_a)
    b_value = rng.uniform(0.5, 2.0, shape_b)
    a = Tensor(a_value, requires_grad=True)
    b = Tensor(b_value, requires_grad=True)
    out = apply(a, b)
    np.testing.assert_allclose(out.data, reference(a_value, b_value), rtol=1e-15)
    out.sum().backward()
    assert a.grad.shape == shape_a
    assert b.grad.shape == shape_b

    # d sum(out) / d a: the elementwise partial, broadcast, summed over broadcast copies.
    A, B = np.broadcast_arrays(a_value, b_value)
    partial_a = {"+": np.ones_like(A), "-": np.ones_like(A), "*": B, "/": 1 / B}[op]
    partial_b = {"+": np.ones_like(B), "-": -np.ones_like(B), "*": A, "/": -A / B ** 2}[op]

    def summed_to(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)

    np.testing.assert_allclose(a.grad.data, summed_to(partial_a, shape_a), rtol=1e-13)
    np.testing.assert_allclose(b.grad.data, summed_to(partial_b, shape_b), rtol=1e-13)


def test_broadcast_add_column_and_row_hand_computed():
    a = Tensor(np.zeros((3, 1)), requires_grad=True)
    b = Tensor(np.zeros((1, 4)), requires_grad=True)
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad.data, np.full((1, 4), 3.0))


@pytest.mark.parametrize("op", list(BINARY) + ["@"])
def test_incompatible_shapes_raise_value_error_naming_op_and_shapes(op):
    names = {"+": "Add", "-": "Sub", "*": "Mul", "/": "Div", "@": "MatMul"}
    if op == "@":
        a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
        apply = lambda x, y: x @ y                       # noqa: E731
    else:
        a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
        apply = BINARY[op][0]
    with pytest.raises(ValueError) as info:
        apply(a, b)
    message = str(info.value)
    assert names[op] in message
    assert str(a.shape) in message and str(b.shape) in message


def test_incompatible_ndarray_on_the_left_raises_value_error():
    with pytest.raises(ValueError) as info:
        np.ones(4) * Tensor(np.ones(3))
    assert "Mul" in str(info.value) and "(4,)" in str(info.value) and "(3,)" in str(info.value)


# --------------------------------------------------------------------------- #
# Tensor.backward()
# --------------------------------------------------------------------------- #
def test_backward_of_non_scalar_seeds_ones(rng):
    a = rng.standard_normal((2, 3))
    x = Tensor(a, requires_grad=True)
    (x * x).backward()                      # seed ones of shape (2, 3)
    np.testing.assert_allclose(x.grad.data, 2 * a, rtol=1e-15)


def test_backward_with_explicit_seed_is_vector_jacobian_product(rng):
    a = rng.standard_normal((2, 3))
    w = rng.standard_normal((4, 3))
    v = rng.standard_normal((2, 4))
    x = Tensor(a, requires_grad=True)
    y = (x @ Tensor(w).T()) * x.sum(axis=1, keepdims=True)   # y_ij = (a w^T)_ij * s_i
    y.backward(v)
    s = a.sum(axis=1, keepdims=True)
    # dy_ij/da_ik = w_jk s_i + (a w^T)_ij ; contract with v_ij
    expected = (v * s) @ w + ((v * (a @ w.T)).sum(axis=1, keepdims=True)) * np.ones_like(a)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_backward_accepts_tensor_seed():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).backward(Tensor(np.array([10.0, 100.0])))
    np.testing.assert_array_equal(x.grad.data, [30.0, 300.0])


def test_backward_on_leaf_stores_seed_as_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_backward_without_requires_grad_raises_runtime_error():
    y = Tensor(np.ones(3)) * 2
    with pytest.raises(RuntimeError, match="require"):
        y.backward()


def test_backward_with_wrong_seed_shape_raises_value_error():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError) as info:
        y.backward(np.ones((3, 2)))
    assert "(3, 2)" in str(info.value) and "(2, 3)" in str(info.value)


def test_only_leaves_that_require_grad_get_grad():
    a = Tensor(1.0, requires_grad=True)
    b = Tensor(2.0)
    d = a * b
    e = d + 3
    e.backward()
    assert a.grad is not None
    assert b.grad is None
    assert d.grad is None and e.grad is None


def test_gradients_accumulate_across_paths():
    x = Tensor(3.0, requires_grad=True)
    (x * x + x).backward()                  # d/dx (x^2 + x) = 2x + 1
    assert x.grad.data == pytest.approx(7.0)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 3 + 2 * np.array([1.0, 2.0]))


def test_grad_is_float64_tensor_of_leaf_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    (x.sum(axis=0) * 2).sum().backward()
    assert isinstance(x.grad, Tensor)
    assert x.grad.shape == (2, 3)
    assert x.grad.data.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))
