"""Problems 1.1 (basic operations) and 1.2 (autograd).

Each test is a plain function (pytest runs them); runner.py scores them by the
name's prefix: test_add_ -> 1.1.0 (given, 0 points), test_sub_ -> 1.1.1,
test_mul_ -> 1.1.2, test_div_ -> 1.1.3, test_autograd_ -> 1.2.

Isolation (autograder/problems.py): the 1.1.x tests call each op's forward and
backward directly, and check its Tensor operator through the grader's own
``apply``, so they never run the student's engine; the 1.2 tests use only the
given ops (Add, Transpose, Reshape, Log) and the grader's Functions, so they
never run the student's Sub, Mul or Div.  Shapes are equal in 1.1.x: the
handout brings in broadcasting in 2.1 (the practice checks try it earlier).
"""
import numpy as np

import mytorch.nn.functional as F
from autograder.helpers import (assert_close, assert_flags,
                                assert_no_grad, check, fixtures_beside)
from autograder.probes import (Product, WeightedSum, backprop, build_array, call_op, constant,
                               gradient, grader_apply, scale)
from mytorch.tensor import Tensor

SHAPES = [(3, 4), (4,), (), (2, 3, 4)]
fixture = fixtures_beside(__file__)
SYMBOL = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/"}


def _math(op, A, B, G):
    """(forward, gradient w.r.t. a, gradient w.r.t. b) for the upstream gradient G."""
    if op == "Add":
        return A + B, G, G
    if op == "Sub":
        return A - B, G, -G
    if op == "Mul":
        return A * B, G * B, G * A
    return A / B, G / B, -G * A / (B * B)


def _wrong(op, A, B, G):
    """Typical wrong answers for the gradients w.r.t. a and b, each with what it means."""
    _, ones_a, ones_b = _math(op, A, B, np.ones_like(G))
    ignored = "the upstream gradient was ignored: multiply by grad_output"
    wrong_a, wrong_b = [(ignored, ones_a)], [(ignored, ones_b)]
    if op == "Mul":
        wrong_a.append(("this is the gradient w.r.t. b: the two gradients are swapped", G * A))
        wrong_b.append(("this is the gradient w.r.t. a: the two gradients are swapped", G * B))
    if op == "Div":
        wrong_a.append(("multiplied by b: d(a/b)/da = 1/b", G * B))
        wrong_b.append(("the factor a is missing: d(a/b)/db = -a/b**2", -G / (B * B)))
    return wrong_a, wrong_b


def _check_functions(op, seed):
    """F.<op>.forward(ctx, a, b), then F.<op>.backward(ctx, grad_output) with a random
    grad_output, for several shapes, with both operands requiring grad and with a
    constant on either side (its gradient is then ignored, as the engine would)."""
    function = getattr(F, op)
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        A, G = rng.normal(size=shape), rng.normal(size=shape)
        B = build_array(shape, rng, low=0.5)
        value, grad_a, grad_b = _math(op, A, B, G)
        wrong_a, wrong_b = _wrong(op, A, B, G)
        for a_grad, b_grad in ((True, True), (True, False), (False, True)):
            a = Tensor(A.copy(), requires_grad=a_grad)
            b = Tensor(B.copy(), requires_grad=b_grad)
            inputs = "a {}{}, b {}{}".format(shape, "" if a_grad else " constant",
                                             shape, "" if b_grad else " constant")
            out, grads = call_op(function, a, b, grad=G)
            assert_close(out, value, "{}.forward({}): output".format(op, inputs))
            for index, name, needed, expected, wrong in ((0, "a", a_grad, grad_a, wrong_a),
                                                         (1, "b", b_grad, grad_b, wrong_b)):
                if needed:
                    assert_close(gradient(grads, index, op, 2), expected,
                                 "{}.backward({}; random grad_output): gradient w.r.t. {}"
                                 .format(op, inputs, name),
                                 alternatives=wrong)


def _check_operator(op, seed):
    """``a <op> b`` (Tensor.__sub__ etc.) calls F.<op> with (a, b), and returns its output."""
    function = getattr(F, op)
    rng = np.random.default_rng(seed)
    A, B = rng.normal(size=(3, 4)), build_array((3, 4), rng, low=0.5)
    expression = "a {} b".format(SYMBOL[op])
    operator = {"Add": lambda x, y: x + y, "Sub": lambda x, y: x - y,
                "Mul": lambda x, y: x * y, "Div": lambda x, y: x / y}[op]
    for a_grad, b_grad in ((True, True), (False, True), (False, False)):
        a, b = Tensor(A.copy(), requires_grad=a_grad), Tensor(B.copy(), requires_grad=b_grad)
        with grader_apply() as calls:
            out = operator(a, b)
        check(len(calls) == 1 and calls[0].function is function,
              "{} for two Tensors should call F.{}.apply(a, b) once, so the op joins the graph; "
              "it called {}".format(expression, op,
                                    [c.function.__name__ for c in calls] or "no Function"))
        check(calls[0].args[0] is a and calls[0].args[1] is b,
              "{} should call F.{}.apply(a, b) with a first and b second".format(expression, op))
        assert_close(out, _math(op, A, B, B)[0], expression)


# --------------------------------------------------------------------------- #
# 1.1.0 Addition (given)   1.1.1 Subtraction   1.1.2 Multiplication   1.1.3 Division
# --------------------------------------------------------------------------- #
def test_add_functions():
    _check_functions("Add", 10)


def test_add_operator():
    _check_operator("Add", 11)


def test_sub_functions():
    _check_functions("Sub", 20)


def test_sub_operator():
    _check_operator("Sub", 21)


def test_mul_functions():
    _check_functions("Mul", 30)


def test_mul_operator():
    _check_operator("Mul", 31)


def test_div_functions():
    _check_functions("Div", 40)


def test_div_operator():
    _check_operator("Div", 41)


# --------------------------------------------------------------------------- #
# 1.2 Autograd: the given ops and the grader's Product, WeightedSum and Scale
# --------------------------------------------------------------------------- #
def test_autograd_handout_worked_example():
    """Handout 0.1.4-0.1.7: d = a*b + a; e = (d + c) + 3 with b and 3 constants."""
    a = Tensor(1., requires_grad=True)
    b = Tensor(2.)
    c = Tensor(3., requires_grad=True)
    d = Product.apply(a, b) + a
    e = (d + c) + Tensor(3.)
    assert_close(e, 9.0, "e", scalar=True)
    assert_flags(d, "d", requires_grad=True, is_leaf=False)
    assert_flags(e, "e", requires_grad=True, is_leaf=False)
    e.backward()
    assert_close(a.grad, 3.0, "a.grad (de/da = b + 1: a reaches e along two paths)", scalar=True)
    assert_close(c.grad, 1.0, "c.grad (de/dc)", scalar=True)
    assert_no_grad(b, "b", "b does not require grad")
    assert_no_grad(d, "d", "only leaf tensors store gradients")
    assert_flags(a, "a after backward", requires_grad=True, is_leaf=True)


def test_autograd_nodes_follow_appendix_a():
    """The parents of each node: the op's node for an intermediate, an AccumulateGrad
    (holding the leaf) for a leaf that requires grad, None for a constant."""
    a, b, c = Tensor(1., requires_grad=True), Tensor(2.), Tensor(3., requires_grad=True)
    d = Product.apply(a, b) + a
    dc = d + c
    e = dc + Tensor(3.)
    node = e.grad_fn
    check(node is not None and hasattr(node, "next_functions"),
          "e.grad_fn should be a BackwardFunction with next_functions, got {!r}".format(node))
    parents = list(node.next_functions)
    check(len(parents) == 2 and parents[1] is None,
          "e = (d + c) + 3: e.grad_fn.next_functions should hold 2 entries, the second None "
          "(3 is a constant); got {!r}".format(parents))
    check(parents[0] is dc.grad_fn,
          "e = (d + c) + 3: e.grad_fn.next_functions[0] should be (d + c).grad_fn, the node of "
          "an intermediate (not a new AccumulateGrad: only leaves get those); got {!r}"
          .format(parents[0]))
    inner = list(getattr(parents[0], "next_functions", ()))
    check(len(inner) == 2 and inner[0] is d.grad_fn,
          "(d + c).grad_fn.next_functions[0] should be d.grad_fn (d is an intermediate); "
          "got {!r}".format(inner[0] if inner else inner))
    check(type(inner[1]).__name__ == "AccumulateGrad" and getattr(inner[1], "variable", None) is c,
          "(d + c).grad_fn.next_functions[1] should be an AccumulateGrad whose .variable is the "
          "leaf c; got {!r}".format(inner[1]))
    product = list(getattr(d.grad_fn, "next_functions", ()))[0]
    factors = list(getattr(product, "next_functions", ()))
    check(len(factors) == 2 and factors[1] is None and
          type(factors[0]).__name__ == "AccumulateGrad",
          "a * b with b constant: next_functions should be [AccumulateGrad of a, None]; "
          "got {!r}".format(factors))


def test_autograd_gradients_accumulate_across_backward_calls():
    """Two backward() calls without zeroing add up in .grad (handout step 8, as in PyTorch)."""
    rng = np.random.default_rng(50)
    X, W = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x, w = Tensor(X.copy(), requires_grad=True), Tensor(W.copy())
    Product.apply(x, w).backward()
    assert_close(x.grad, W, "x.grad after (x * w).backward() (x * w is not a scalar: "
                            "backward seeds ones of its shape)")
    Product.apply(x, w).backward()
    assert_close(x.grad, 2 * W, "x.grad after a second backward() (gradients accumulate: +=)",
                 alternatives=[("the second backward() replaced .grad instead of adding to it",
                                W)])


def test_autograd_shared_subexpressions():
    """Generalized chain rule (handout 0.1.6): every path into a tensor adds to its gradient."""
    rng = np.random.default_rng(51)
    X = rng.normal(size=(3, 4))
    x = Tensor(X.copy(), requires_grad=True)
    y = Product.apply(x, x)
    z = Product.apply(y, x) + y                      # x**3 + x**2
    z.backward()
    assert_close(x.grad, 3 * X ** 2 + 2 * X, "x.grad for z = x*x*x + x*x (x feeds 4 paths)",
                 alternatives=[("only one path's gradient reached x: sum the gradients of "
                                "every path (+=)", 2 * X)])

    A, B = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    u = Product.apply(a, b)
    v = u + u
    w = Product.apply(v, a)                          # 2 a**2 b
    w.backward()
    assert_close(a.grad, 4 * A * B, "a.grad for w = (a*b + a*b) * a")
    assert_close(b.grad, 2 * A * A, "b.grad for w = (a*b + a*b) * a")


def test_autograd_paths_of_different_lengths():
    """u feeds w directly and through two more ops: its node must wait for both gradients."""
    rng = np.random.default_rng(54)
    A, K = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    a = Tensor(A.copy(), requires_grad=True)
    u = Product.apply(a, Tensor(K.copy()))            # u = a k
    v = F.Transpose.apply(F.Transpose.apply((u + a).reshape(3, 2))).reshape(2, 3)   # given ops
    w = Product.apply(v, u)                           # w = (a k + a) a k
    backprop(w, np.ones((2, 3)))
    assert_close(a.grad, 2 * A * K * K + 2 * A * K, "a.grad for w = (a*k + a) * (a*k)")


def test_autograd_constants_and_requires_grad_flags():
    """Appendix A: which tensors require grad, which are leaves, and who stores a gradient."""
    rng = np.random.default_rng(52)
    X, K1, K2 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    k1, k2 = Tensor(K1.copy()), Tensor(K2.copy())
    assert_flags(k1, "Tensor(data)", requires_grad=False, is_leaf=True, is_parameter=False)
    p = Product.apply(k1, k2)
    assert_flags(p, "product of two constants", requires_grad=False, is_leaf=True)
    assert_close(p, K1 * K2, "product of two constants")

    x = Tensor(X.copy(), requires_grad=True)
    assert_flags(x, "Tensor(data, requires_grad=True)", requires_grad=True, is_leaf=True,
                 is_parameter=False)
    q = Product.apply(k1, x) + k2                    # the constant first this time
    assert_flags(q, "k1 * x + k2", requires_grad=True, is_leaf=False)
    q.backward()
    assert_close(x.grad, K1, "x.grad for q = k1 * x + k2")
    assert_no_grad(k1, "k1", "a constant")
    assert_no_grad(k2, "k2", "a constant")
    assert_no_grad(p, "k1 * k2", "no input requires grad")


def test_autograd_upstream_gradient_flows_through():
    """backward() from k * loss and from a loss used twice: every node multiplies by the
    gradient it receives (grad_output), it does not start again from ones."""
    rng = np.random.default_rng(55)
    X, R = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x = Tensor(X.copy(), requires_grad=True)
    loss = WeightedSum.apply(Product.apply(x, x), constant(R))
    scale(loss, 2.5).backward()
    assert_close(x.grad, 2.5 * 2 * X * R, "x.grad for 2.5 * sum(R * x * x)",
                 alternatives=[("the factor 2.5 from the last op was lost: pass each node's "
                                "gradient on, multiplied by its own", 2 * X * R)])
    x2 = Tensor(X.copy(), requires_grad=True)
    loss = WeightedSum.apply(Product.apply(x2, x2), constant(R))
    (loss + loss).backward()
    assert_close(x2.grad, 2 * 2 * X * R, "x.grad for loss + loss, loss = sum(R * x * x)",
                 alternatives=[("only one use of the loss reached x", 2 * X * R)])


def test_autograd_reshape_transpose_log():
    """The given Reshape, Transpose and Log inside a graph."""
    rng = np.random.default_rng(53)
    X, W = rng.normal(size=(2, 6)), rng.normal(size=(3, 4))
    x, w = Tensor(X.copy(), requires_grad=True), Tensor(W.copy(), requires_grad=True)
    y = Product.apply(x.reshape(3, 4), w)
    assert_close(y, X.reshape(3, 4) * W, "x.reshape(3, 4) * w")
    yt = F.Transpose.apply(y)                        # the given Transpose (not y.T(), which
    z = Product.apply(yt, yt).log()                  # a student may make a property)
    assert_close(z, np.log((X.reshape(3, 4) * W) ** 2).T, "log(y.T() * y.T())")
    z.backward()
    # d log(y**2) / dy = 2 / y
    assert_close(x.grad, (2 / (X.reshape(3, 4) * W) * W).reshape(2, 6), "x.grad")
    assert_close(w.grad, 2 / (X.reshape(3, 4) * W) * X.reshape(3, 4), "w.grad")


def test_autograd_graph_matches_pytorch():
    """out = log(((a*b + a).T() * c).reshape(2, 6) ** 2 + k): values and grads from PyTorch."""
    fx = fixture("autograd", "graph")
    a = Tensor(fx["a"].copy(), requires_grad=True)
    b = Tensor(fx["b"].copy(), requires_grad=True)
    c, k = Tensor(fx["c"].copy()), Tensor(fx["k"].copy())
    w = Product.apply(F.Transpose.apply(Product.apply(a, b) + a), c)
    z = w.reshape(2, 6)
    out = (Product.apply(z, z) + k).log()
    assert_close(out, fx["out"], "out")
    out.backward()
    assert_close(a.grad, fx["grad.a"], "a.grad")
    assert_close(b.grad, fx["grad.b"], "b.grad")
    assert_no_grad(c, "c", "a constant")
