"""./grade.sh 1 against typical student mistakes: each is caught and charged to its own problem.

Every mistake below is written as an edit of the reference source, applied to a
scratch copy of mytorch/ and hw1/, and graded by the real runner (each problem
in its own child process).  The test asserts exactly which problems it costs,
that those are allowed by the dependency table (autograder/hw1_autograder/spec.py: the
mistake's own problem and the problems that depend on it), which practice
checks it fails, and that the report points at the fix.  Correct code written
in other ways a student might write it scores 100.
"""
from pathlib import Path

import pytest

from autograder import specs
from grader_harness import Edit, Mistake, grade_copies

FUNCTIONAL = "mytorch/nn/functional.py"
TENSOR = "mytorch/tensor.py"
ENGINE = "mytorch/autograd_engine.py"
SGD = "mytorch/optim/sgd.py"
BATCHNORM = "mytorch/nn/batchnorm.py"
ALL_2X = {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6"}
SPEC = specs.get("1")
ROOT = Path(__file__).resolve().parents[1]

SUB_BACKWARD = '''        return _grads(unbroadcast(g, a_shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(-g, b_shape) if ctx.needs_input_grad[1] else None)'''
MUL_BACKWARD = '''        return _grads(unbroadcast(g * b.data, a.shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(g * a.data, b.shape) if ctx.needs_input_grad[1] else None)'''
DIV_BACKWARD = '''        return _grads(unbroadcast(g / b.data, a.shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(-g * a.data / b.data ** 2, b.shape)
                      if ctx.needs_input_grad[1] else None)'''
SGD_STEP = '''            if self.momentum:
                self.momentum_step(param, delta)
            else:
                param.data -= self.lr * param.grad.data   # in place: the setter bumps the version'''
MOMENTUM_STEP = '''        delta *= self.momentum
        delta -= self.lr * param.grad.data
        param.data += delta'''
BFS_ORDER = '''def _breadth_first(root):
    order, queue, seen = [], [root], {root}
    while queue:
        node = queue.pop(0)
        order.append(node)
        for parent in node.next_functions:
            if type(parent) is BackwardFunction and parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return order


def backward('''


def edit(path, old, new, count=1):
    return Edit(path, old, new, count)


RELU_OUTPUT = "        return tensor.Tensor(np.maximum(a.data, 0.0))       # (NaN stays NaN: divergence shows)"
XE_SHIFT = "        shifted = x - x.max(axis=1, keepdims=True)          # LogSumExp trick: exp <= 1"
XE_LOSS = "        loss = (np.log(sums[:, 0]) - shifted[rows, labels]).sum() / x.shape[0]"
APPLY_SETS_FLAGS = '''        if True in needs:
            backward_function.ctx.needs_input_grad = needs
            backward_function.next_functions = parents
            backward_function.shape = output_tensor.shape
            output_tensor._requires_grad = True      # the setter minus its float check
            output_tensor.is_leaf = False
            output_tensor.grad_fn = backward_function
        elif output_tensor.requires_grad:     # flagged by its forward, but no graph is built
            output_tensor._requires_grad = False      # (no_grad(), or constant inputs)
            output_tensor.is_leaf = True
        return output_tensor'''
# The handout's starting code for apply, completed the way it invites: link each input's
# node; store the node on the output only if the output requires grad, which the op's
# forward decided (as the given Add does).  Nothing else is set on the output.
HANDOUT_STYLE_APPLY = '''        backward_function.ctx.needs_input_grad = needs
        backward_function.next_functions = parents
        backward_function.shape = output_tensor.shape
        if output_tensor.requires_grad:
            output_tensor.grad_fn = backward_function
        return output_tensor'''
def ops_flag_outputs(but=()):
    """Edits that make every op (except those named in ``but``) set its output's flags in
    forward, the way the handout's given Add does: a wrapper around each Function's
    forward, appended to functional.py."""
    return [edit(FUNCTIONAL, "def check_probability(op, p):", '''def _flag_every_output():
    for cls in list(Function.__subclasses__()):
        if cls.__name__ in {but!r}:
            continue
        forward = cls.forward

        def flagging(ctx, *args, _forward=forward):
            out = _forward(ctx, *args)
            needs = any(isinstance(a, tensor.Tensor) and a.requires_grad for a in args)
            out.requires_grad, out.is_leaf = needs, not needs
            return out
        cls.forward = staticmethod(flagging)


def check_probability(op, p):'''.format(but=tuple(but))),
            edit(FUNCTIONAL, "def _class_indices(predicted, target):",
                 "_flag_every_output()\n\n\ndef _class_indices(predicted, target):")]

# Correct code written in other ways a student might write it.
BATCHNORM_FROM_OPS = '''        if self.is_train:
            n = float(x.shape[0])
            mean = x.sum(axis=0) / Tensor(n)
            centered = x - mean
            var = {variance}
            m = self.momentum
            self.running_mean.data = (1 - m) * self.running_mean.data + m * mean.data
            self.running_var.data = (1 - m) * self.running_var.data + m * var.data * n / (n - 1)
        else:
            centered = x - Tensor(self.running_mean.data.copy())
            var = Tensor(self.running_var.data.copy())
        return self.gamma * (centered / (var + Tensor(self.eps)) ** 0.5) + self.beta'''
BATCHNORM_CALL = '''        return F.BatchNorm.apply(x, self.gamma, self.beta, self.running_mean, self.running_var,
                                 self.is_train, self.momentum, self.eps)'''
CROSS_ENTROPY_FROM_OPS = '''    _require_tensors("cross_entropy", predicted)
    labels = _class_indices(predicted, target)
    n, classes = predicted.shape
    shifted = predicted - tensor.Tensor(predicted.data.max(axis=1, keepdims=True))
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), labels] = 1.0
    return (log_probs * tensor.Tensor(onehot)).sum() * tensor.Tensor(-1.0 / n)'''
CROSS_ENTROPY_CALL = '''    _require_tensors("cross_entropy", predicted)
    labels = _class_indices(predicted, target)
    return CrossEntropy.apply(predicted, labels)'''
HANDOUT_ENGINE = '''def backward(grad_fn, grad_of_outputs, retain_graph=False):
    """The handout's recursive DFS: one call per path."""
    if grad_fn is None:
        return
    grads = grad_fn.apply(grad_of_outputs)
    if isinstance(grad_fn, AccumulateGrad):
        return
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    for parent, grad in zip(grad_fn.next_functions, grads):
        if parent is not None and grad is not None:
            backward(parent, grad)


def _unused_backward(grad_fn, grad_of_outputs, retain_graph=False):'''
HANDOUT_APPLY = '''        backward_function = BackwardFunction(cls)
        output_tensor = cls.forward(backward_function.ctx, *args)
        for arg in args:
            if isinstance(arg, tensor.Tensor) and arg.requires_grad:
                if arg.is_leaf and arg.grad_fn is None:
                    arg.grad_fn = AccumulateGrad(arg)
                backward_function.next_functions.append(arg.grad_fn)
                output_tensor.requires_grad, output_tensor.is_leaf = True, False
            else:
                backward_function.next_functions.append(None)
        if output_tensor.requires_grad:
            output_tensor.grad_fn = backward_function
        return output_tensor
'''
# --------------------------------------------------------------------------- #
# The catalogue
# --------------------------------------------------------------------------- #
MISTAKES = [
    # 1.1.1 Subtraction
    Mistake("Sub.backward: no minus sign for b", "1.1.1",
            [edit(FUNCTIONAL, "unbroadcast(-g, b_shape)", "unbroadcast(g, b_shape)")],
            {"1.1.1"}, words="the sign is flipped on every element"),
    Mistake("Sub.forward returns a NumPy array", "1.1.1",
            [edit(FUNCTIONAL, 'ctx.shapes = a.shape, b.shape\n        return _elementwise("Sub", '
                  'np.subtract, a, b)', 'ctx.shapes = a.shape, b.shape\n        return '
                  '_elementwise("Sub", np.subtract, a, b).data')],
            {"1.1.1"}, words="Sub.forward returned a NumPy array of shape (3, 4): return a Tensor"),
    Mistake("Mul.backward returns NumPy arrays", "1.1.2",
            [edit(FUNCTIONAL, MUL_BACKWARD, "        return (unbroadcast(g * b.data, a.shape), "
                  "unbroadcast(g * a.data, b.shape))")],
            {"1.1.2"}, words="returned a NumPy array of shape (3, 4) as gradient 0"),
    Mistake("Sub.forward computes b - a", "1.1.1",
            [edit(FUNCTIONAL, '_elementwise("Sub", np.subtract, a, b)',
                  '_elementwise("Sub", np.subtract, b, a)')],
            {"1.1.1"}, words="Sub.forward"),
    Mistake("Sub.backward ignores grad_output", "1.1.1",
            [edit(FUNCTIONAL, SUB_BACKWARD, "        return _grads(np.ones(a_shape), "
                  "-np.ones(b_shape))")],
            {"1.1.1"}, words="the upstream gradient was ignored"),
    Mistake("Tensor.__sub__ calls Add", "1.1.1",
            [edit(TENSOR, "return F.Sub.apply(self, _as_tensor(other))",
                  "return F.Add.apply(self, _as_tensor(other))")],
            {"1.1.1"}, words="should call F.Sub.apply(a, b) once"),
    Mistake("Tensor.__sub__ swaps its operands", "1.1.1",
            [edit(TENSOR, "return F.Sub.apply(self, _as_tensor(other))",
                  "return F.Sub.apply(_as_tensor(other), self)")],
            {"1.1.1"}, words="with a first and b second"),
    Mistake("Tensor.__rsub__ computes a - 2 for 2 - a", "1.1.1",
            [edit(TENSOR, "return F.Sub.apply(_as_tensor(other), self)",
                  "return F.Sub.apply(self, _as_tensor(other))")],
            set(), practice={"operators_with_a_number"}, words="2 - a: output"),
    Mistake("Sub.backward without unbroadcast", "1.1.1",
            [edit(FUNCTIONAL, SUB_BACKWARD, "        return _grads(g, -g)")],
            set(), practice={"broadcasting_in_sub"}, words="summed back to the input's shape"),
    # 1.1.2 Multiplication
    Mistake("Mul.backward swaps the gradients", "1.1.2",
            [edit(FUNCTIONAL, "unbroadcast(g * b.data, a.shape) if",
                  "unbroadcast(g * a.data, a.shape) if"),
             edit(FUNCTIONAL, "unbroadcast(g * a.data, b.shape) if",
                  "unbroadcast(g * b.data, b.shape) if")],
            {"1.1.2"}, words="the two gradients are swapped"),
    Mistake("Mul.backward ignores grad_output", "1.1.2",
            [edit(FUNCTIONAL, MUL_BACKWARD, "        return _grads(b.data * 1.0, a.data * 1.0)")],
            {"1.1.2"}, words="the upstream gradient was ignored"),
    Mistake("Mul.forward uses a matrix product", "1.1.2",
            [edit(FUNCTIONAL, '_elementwise("Mul", np.multiply, a, b)',
                  '_elementwise("Mul", np.matmul, a, b)')],
            {"1.1.2"}, words="Mul"),
    Mistake("Tensor.__mul__ calls Add", "1.1.2",
            [edit(TENSOR, "return F.Mul.apply(self, _as_tensor(other))",
                  "return F.Add.apply(self, _as_tensor(other))")],
            {"1.1.2"}, words="should call F.Mul.apply(a, b) once"),
    Mistake("no Tensor.__rmul__ (2 * a fails)", "1.1.2",
            [edit(TENSOR, "    def __rmul__(self, other):\n        return F.Mul.apply("
                  "_as_tensor(other), self)\n", "")],
            set(), practice={"operators_with_a_number"}, words="2 * a"),
    Mistake("Mul.backward without unbroadcast", "1.1.2",
            [edit(FUNCTIONAL, MUL_BACKWARD, "        return _grads(g * b.data, g * a.data)")],
            set(), practice={"broadcasting_in_mul"}, words="summed back to the input's shape"),
    # 1.1.3 Division
    Mistake("Div.backward: d/db without the numerator a", "1.1.3",
            [edit(FUNCTIONAL, "-g * a.data / b.data ** 2", "-g / b.data ** 2")],
            {"1.1.3"}, words="the factor a is missing"),
    Mistake("Div.backward: d/db with the wrong sign", "1.1.3",
            [edit(FUNCTIONAL, "-g * a.data / b.data ** 2", "g * a.data / b.data ** 2")],
            {"1.1.3"}, words="the sign is flipped"),
    Mistake("Div.backward: d/da multiplies by b", "1.1.3",
            [edit(FUNCTIONAL, "unbroadcast(g / b.data, a.shape)", "unbroadcast(g * b.data, a.shape)")],
            {"1.1.3"}, words="multiplied by b"),
    Mistake("Div.forward floor-divides", "1.1.3",
            [edit(FUNCTIONAL, '_elementwise("Div", np.true_divide, a, b)',
                  '_elementwise("Div", np.floor_divide, a, b)')],
            {"1.1.3"}, words="Div.forward"),
    Mistake("Tensor.__rtruediv__ computes a / 2 for 2 / a", "1.1.3",
            [edit(TENSOR, "return F.Div.apply(_as_tensor(other), self)",
                  "return F.Div.apply(self, _as_tensor(other))")],
            set(), practice={"operators_with_a_number"}, words="2 / a: output"),
    Mistake("Div.backward without unbroadcast", "1.1.3",
            [edit(FUNCTIONAL, DIV_BACKWARD,
                  "        return _grads(g / b.data, -g * a.data / b.data ** 2)")],
            set(), practice={"broadcasting_in_div"}, words="summed back to the input's shape"),
    # 1.2 Autograd
    Mistake("apply: the output requires grad only if every input does", "1.2",
            [edit(ENGINE, "        if True in needs:", "        if False not in needs:")],
            {"1.2"} | ALL_2X, practice={"mean"}, words="requires_grad should be True"),
    # With ops that set nothing on their output, only the grader's Functions (which flag
    # their outputs in forward, as the handout's given ops do) pass 1.2; ReLU is caught.
    Mistake("apply: the output stays a leaf", "1.2",
            [edit(ENGINE, "            output_tensor.is_leaf = False\n", "")],
            {"2.2"}, words="is_leaf should be False, got True: an op's output"),
    Mistake("apply: an output of constants requires grad", "1.2",
            [edit(ENGINE, "if _grad_enabled and isinstance(arg, Tensor) and arg.requires_grad:",
                  "if _grad_enabled and isinstance(arg, Tensor):")],
            {"1.2"}, words="product of two constants.requires_grad should be False"),
    Mistake("apply: an intermediate is linked through a new AccumulateGrad", "1.2",
            [edit(ENGINE, "parents.append(arg.grad_fn if arg.grad_fn is not None else "
                  "_node_of(arg))", "parents.append(AccumulateGrad(arg))")],
            {"1.2", "2.1", "2.2", "2.4", "2.5"},
            words="2.1 uses Autograd (1.2), which fails: fix 1.2 first"),
    Mistake("apply: only the first argument is linked", "1.2",
            [edit(ENGINE, "        for arg in args:\n            if _grad_enabled",
                  "        for arg in args[:1]:\n            if _grad_enabled")],
            {"1.2", "2.1", "2.4", "2.5"}, words="2.1 fails inside your backward: see 1.2"),
    Mistake("backward: a node keeps only the last path's gradient", "1.2",
            [edit(ENGINE, "pending[parent] = pending[parent] + g", "pending[parent] = g")],
            {"1.2", "2.5"}, words="only one"),
    Mistake("backward: nodes in breadth-first order, not topological", "1.2",
            [edit(ENGINE, "\ndef backward(", "\n" + BFS_ORDER),
             edit(ENGINE, "for node in _topological_order(grad_fn):",
                  "for node in _breadth_first(grad_fn):")],
            {"1.2", "2.5"}, words="a.grad for w = (a*k + a) * (a*k)"),
    Mistake("backward: a leaf's .grad replaced, not accumulated", "1.2",
            [edit(ENGINE, '''                parent._accumulate(g, shared=id(g) in passed_on or retain_graph
                                   or g.base is not None or not g.flags.writeable)''',
                  "                parent.variable.grad = Tensor(g.copy())")],
            {"1.2"}, words="replaced .grad instead of adding to it"),
    Mistake("backward: gradients sent to constants", "1.2",
            [edit(ENGINE, "            if parent is None or g is None:\n                continue",
                  "            if g is None:\n                continue")],
            {"1.2"}, words="NoneType"),
    Mistake("Tensor.backward seeds a scalar 1 whatever the shape", "1.2",
            [edit(TENSOR, "            seed = np.ones(self.shape)", "            seed = np.ones(())")],
            {"1.2"}, words="Autograd"),
    Mistake("Tensor.backward seeds zeros", "1.2",
            [edit(TENSOR, "            seed = np.ones(self.shape)", "            seed = np.zeros(self.shape)")],
            {"1.2"} | ALL_2X, words="zeros everywhere"),
    # 2.1 Linear
    Mistake("unbroadcast sums the prepended axes only", "2.1",
            [edit(FUNCTIONAL, "return grad.sum(axis=tuple(range(leading)) + stretched)"
                  ".reshape(shape)", "return grad.sum(axis=tuple(range(leading))).reshape(shape)")],
            {"2.1"}, words="Add"),
    Mistake("Add.backward without unbroadcast", "2.1",
            [edit(FUNCTIONAL, '''        return _grads(unbroadcast(g, a_shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(g, b_shape) if ctx.needs_input_grad[1] else None)''',
                  "        return _grads(g, g)")],
            {"2.1"}, practice=set(), words="summed back to the input's shape"),
    Mistake("Linear without the bias", "2.1",
            [edit(FUNCTIONAL, "x.data @ weight.data.T + bias.data", "x.data @ weight.data.T")],
            {"2.1"}, words="the bias is missing"),
    Mistake("Linear: the weight gradient transposed", "2.1",
            [edit(FUNCTIONAL, "g.T @ x.data if needs[1]", "x.data.T @ g if needs[1]")],
            {"2.1"}, words="Linear"),
    Mistake("Linear: the bias gradient averaged over the batch", "2.1",
            [edit(FUNCTIONAL, "g.sum(axis=0) if needs[2]", "g.mean(axis=0) if needs[2]")],
            {"2.1"}, words="times too small everywhere"),
    Mistake("Linear.forward multiplies by W, not W^T", "2.1",
            [edit("mytorch/nn/linear.py", "return F.Linear.apply(x, self.weight, self.bias)",
                  "return x @ self.weight + self.bias")],
            {"2.1"}, words="MatMul"),
    Mistake("Sequential.forward runs the first layer only", "2.1",
            [edit("mytorch/nn/sequential.py", "        for layer in self.layers:\n"
                  "            x = layer(x)\n        return x", "        return self.layers[0](x)")],
            {"2.1"}, words="not graded: 2.2's model test uses Linear (2.1)"),
    Mistake("Sequential.forward runs the layers backwards", "2.1",
            [edit("mytorch/nn/sequential.py", "        for layer in self.layers:\n",
                  "        for layer in reversed(self.layers):\n")],
            {"2.1"}, words="Linear"),
    # 2.2 ReLU
    Mistake("ReLU.backward passes every gradient", "2.2",
            [edit(FUNCTIONAL, "return _grads(grad_output.data * ctx.mask)",
                  "return _grads(grad_output.data * 1.0)")],
            {"2.2"}, words="every gradient passed through"),
    Mistake("ReLU's derivative is 1 at 0", "2.2",
            [edit(FUNCTIONAL, "ctx.mask = a.data > 0", "ctx.mask = a.data >= 0")],
            {"2.2"}, words="the gradient at x == 0 should be 0"),
    Mistake("ReLU.backward ignores grad_output", "2.2",
            [edit(FUNCTIONAL, "return _grads(grad_output.data * ctx.mask)",
                  "return _grads(ctx.mask * 1.0)")],
            {"2.2"}, words="the upstream gradient was ignored"),
    Mistake("activations.ReLU.forward returns its input", "2.2",
            [edit("mytorch/nn/activations.py", "return F.ReLU.apply(x)", "return x")],
            {"2.2"}, words="ReLU()(x)"),
    Mistake("ReLU.forward takes the absolute value", "2.2",
            [edit(FUNCTIONAL, "np.maximum(a.data, 0.0)", "np.abs(a.data)")],
            {"2.2"}, words="ReLU()(x)"),
    # 2.3 SGD
    Mistake("SGD steps uphill", "2.3",
            [edit(SGD, "param.data -= self.lr * param.grad.data", "param.data += self.lr * "
                  "param.grad.data")],
            {"2.3"}, words="the step went uphill"),
    Mistake("SGD forgets the learning rate", "2.3",
            [edit(SGD, "param.data -= self.lr * param.grad.data", "param.data -= param.grad.data")],
            {"2.3"}, words="after step 1 of SGD(lr=0.3)"),
    Mistake("SGD updates the first parameter only", "2.3",
            [edit(SGD, "                param.data -= self.lr * param.grad.data   # in place: the "
                  "setter bumps the version", "                param.data -= self.lr * "
                  "param.grad.data\n                return")],
            {"2.3"}, words="step() did not change the parameter"),
    Mistake("SGD replaces the parameters with new Tensors", "2.3",
            [edit(SGD, SGD_STEP, "            index = [id(p) for p in self.params]"
                  ".index(id(param))\n"
                  "            self.params[index] = param - param.grad * self.lr")],
            {"2.3", "2.6"}, words="step() did not change the parameter"),
    Mistake("SGD records its update in the graph", "2.3",
            [edit(SGD, SGD_STEP, "            updated = param - param.grad * self.lr\n"
                  "            param.data = updated.data\n"
                  "            param.is_leaf, param.grad_fn = updated.is_leaf, updated.grad_fn")],
            {"2.3", "2.6"}, words="is_leaf should be True"),
    # 2.4 BatchNorm
    Mistake("running_var from the biased variance", "2.4",
            [edit(FUNCTIONAL, "momentum * var * (n / (n - 1))", "momentum * var")],
            {"2.4"}, words="running_var"),
    Mistake("batch statistics in eval mode", "2.4",
            [edit(FUNCTIONAL, "        if training:\n            n = x.shape[0]",
                  "        if True:\n            n = x.shape[0]")],
            {"2.4"}, words="eval mode"),
    Mistake("eval-mode backward uses the training formula", "2.4",
            [edit(FUNCTIONAL, "            if ctx.training:\n                n = g.shape[0]",
                  "            if True:\n                n = g.shape[0]")],
            {"2.4"}, words="eval mode, batch of 4): gradient of the input x"),
    Mistake("running statistics weighted by alpha and momentum swapped", "2.4",
            [edit(FUNCTIONAL, "(1 - momentum) * running_mean.data + momentum * mean",
                  "momentum * running_mean.data + (1 - momentum) * mean"),
             edit(FUNCTIONAL, "(1 - momentum) * running_var.data + momentum * var",
                  "momentum * running_var.data + (1 - momentum) * var")],
            {"2.4"}, words="running_mean"),
    Mistake("eps added outside the square root", "2.4",
            [edit(FUNCTIONAL, "inv_std = 1.0 / np.sqrt(var + eps)",
                  "inv_std = 1.0 / (np.sqrt(var) + eps)")],
            {"2.4"}, words="BatchNorm"),
    Mistake("normalized with the unbiased variance", "2.4",
            [edit(FUNCTIONAL, "var = (centered * centered).sum(axis=0) / n ",
                  "var = (centered * centered).sum(axis=0) / (n - 1) ")],
            {"2.4"}, words="model output"),
    Mistake("gamma and beta gradients averaged over the batch", "2.4",
            [edit(FUNCTIONAL, "grad_beta = g.sum(axis=0)\n        grad_gamma = (g * x_hat).sum(axis=0)",
                  "grad_beta = g.mean(axis=0)\n        grad_gamma = (g * x_hat).mean(axis=0)")],
            {"2.4"}, words="times too small everywhere"),
    Mistake("training backward treats the batch mean and variance as constants", "2.4",
            [edit(FUNCTIONAL, "grad_x = (scale / n) * (n * g - grad_beta - x_hat * grad_gamma)",
                  "grad_x = g * scale")],
            {"2.4"}, words="gradient of the input x"),
    Mistake("BatchNorm1d ignores is_train", "2.4",
            [edit(BATCHNORM, "self.is_train, self.momentum, self.eps",
                  "True, self.momentum, self.eps")],
            {"2.4"}, words="eval mode"),
    # 2.5 Cross-entropy
    Mistake("cross-entropy summed, not averaged", "2.5",
            [edit(FUNCTIONAL, ".sum() / x.shape[0]", ".sum()"),
             edit(FUNCTIONAL, "grad *= float(grad_output.data) / grad.shape[0]",
                  "grad *= float(grad_output.data)")],
            {"2.5"}, words="summed over the batch instead of averaged"),
    Mistake("cross-entropy without the max subtraction", "2.5",
            [edit(FUNCTIONAL, "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")],
            {"2.5"}, words="non-finite"),
    Mistake("cross-entropy backward ignores grad_output", "2.5",
            [edit(FUNCTIONAL, "grad *= float(grad_output.data) / grad.shape[0]",
                  "grad /= grad.shape[0]")],
            {"2.5"}, words="was ignored"),
    Mistake("softmax over the batch axis", "2.5",
            [edit(FUNCTIONAL, "sums = exps.sum(axis=1, keepdims=True)",
                  "sums = exps.sum(axis=0, keepdims=True)")],
            {"2.5"}, words="the loss"),
    Mistake("cross-entropy gradient not divided by the batch size", "2.5",
            [edit(FUNCTIONAL, "grad *= float(grad_output.data) / grad.shape[0]",
                  "grad *= float(grad_output.data)")],
            {"2.5"}, words="summed over the batch instead of averaged"),
    Mistake("cross-entropy gradient with the wrong sign", "2.5",
            [edit(FUNCTIONAL, "grad *= float(grad_output.data) / grad.shape[0]",
                  "grad *= -float(grad_output.data) / grad.shape[0]")],
            {"2.5"}, words="the sign is flipped"),
    # What the course's tests miss and this grader keeps catching (issue: real solutions)
    Mistake("running statistics built from the batch inside the graph", "2.4",
            [edit(BATCHNORM, BATCHNORM_CALL, BATCHNORM_FROM_OPS.format(
                variance="(centered * centered).sum(axis=0) / Tensor(n)").replace(
                "            self.running_mean.data = (1 - m) * self.running_mean.data + m * "
                "mean.data\n",
                "            self.running_mean = Tensor(1 - m) * self.running_mean + Tensor(m) "
                "* mean\n"))],
            {"2.4"}, words="running statistics were built from the batch inside the graph"),
    Mistake("ReLU copies is_leaf from its input (with an apply that sets nothing)", "2.2",
            [edit(ENGINE, APPLY_SETS_FLAGS, HANDOUT_STYLE_APPLY),
             edit(FUNCTIONAL, RELU_OUTPUT, "        return tensor.Tensor(np.maximum(a.data, 0.0), "
                  "requires_grad=a.requires_grad, is_leaf=a.is_leaf)")]
            + ops_flag_outputs(but=["ReLU"]),
            {"2.2"}, words="never copy is_leaf from the input"),
    Mistake("ReLU overwrites its input in forward", "2.2",
            [edit(FUNCTIONAL, RELU_OUTPUT,
                  "        return tensor.Tensor(np.maximum(a.data, 0.0, out=a.data))")],
            {"2.2"}, words="changed its input 0's .data in place"),
    Mistake("ReLU.backward overwrites grad_output", "2.2",
            [edit(FUNCTIONAL, "        return _grads(grad_output.data * ctx.mask)",
                  "        g = grad_output.data\n        g *= ctx.mask\n        return _grads(g)")],
            {"2.2"}, words="ReLU.backward changed its grad_output in place"),
    Mistake("BatchNorm without eps", "2.4",
            [edit(FUNCTIONAL, "inv_std = 1.0 / np.sqrt(var + eps)", "inv_std = 1.0 / np.sqrt(var)")],
            {"2.4"}, words="eps is missing: normalize by sqrt(var + eps)"),
    Mistake("running statistics overwritten by the batch's, with no momentum", "2.4",
            [edit(FUNCTIONAL, "running_mean.data = (1 - momentum) * running_mean.data + "
                  "momentum * mean", "running_mean.data = mean"),
             edit(FUNCTIONAL, "running_var.data = (1 - momentum) * running_var.data + "
                  "momentum * var * (n / (n - 1))", "running_var.data = var * (n / (n - 1))")],
            {"2.4"}, words="running_mean: values differ"),
    Mistake("cross-entropy: no max subtracted", "2.5",
            [edit(FUNCTIONAL, XE_SHIFT, "        shifted = x")],
            {"2.5"}, words="exp overflows unless each row's max is subtracted"),
    Mistake("cross-entropy: one max for the whole batch", "2.5",
            [edit(FUNCTIONAL, XE_SHIFT, "        shifted = x - x.max()")],
            {"2.5"}, words="exp overflows unless each row's max is subtracted"),
    Mistake("cross-entropy: the log-sum-exp exponentiated back into probabilities", "2.5",
            [edit(FUNCTIONAL, XE_LOSS, "        loss = -np.log(exps[rows, labels] / sums[:, 0])"
                  ".sum() / x.shape[0]")],
            {"2.5"}, words="exp overflows unless each row's max is subtracted"),
    Mistake("cross-entropy: log(exp(x)) for the label's logit", "2.5",
            [edit(FUNCTIONAL, XE_LOSS, "        top = x.max(axis=1)\n        loss = (np.log(sums[:, 0]) "
                  "+ top - np.log(np.exp(x[rows, labels]))).sum() / x.shape[0]")],
            {"2.5"}, words="exp overflows unless each row's max is subtracted"),
    Mistake("cross-entropy: log(p + 1e-10) clips the loss", "2.5",
            [edit(FUNCTIONAL, XE_LOSS, "        loss = -np.log(exps[rows, labels] / sums[:, 0] "
                  "+ 1e-10).sum() / x.shape[0]")],
            {"2.5"}, words="CrossEntropyLoss()(logits, labels) on 4 rows"),
    # Cases the grader exercises on purpose: a square Linear, a parameter without .grad
    Mistake("Linear.forward uses W untransposed whenever its shape fits", "2.1",
            [edit(FUNCTIONAL, "        return tensor.Tensor(x.data @ weight.data.T + bias.data)",
                  "        W = weight.data if weight.shape[0] == x.shape[1] else weight.data.T\n"
                  "        return tensor.Tensor(x.data @ W + bias.data)")],
            {"2.1"}, words="x W + b: the weight is not transposed"),
    Mistake("momentum keeps moving a parameter whose .grad is None", "2.3",
            [edit(SGD, "            if grad is None:\n                continue",
                  "            if grad is None:\n                param.data += "
                  "self.momentum * delta\n                continue")],
            {"2.6"}, words="it kept moving by its momentum"),
    # 2.6 Momentum
    Mistake("momentum: W moves by the old delta first", "2.6",
            [edit(SGD, MOMENTUM_STEP, "        param.data += delta\n        delta *= self.momentum\n"
                  "        delta -= self.lr * param.grad.data")],
            {"2.6"}, words="after step 1 of SGD(lr=0.1, momentum=0.9)"),
    Mistake("momentum: the velocity is not kept between steps", "2.6",
            [edit(SGD, "        delta *= self.momentum\n", "        delta *= 0.0\n")],
            {"2.6"}, words="the momentum term is missing"),
    Mistake("momentum: the gradient added, not subtracted", "2.6",
            [edit(SGD, "        delta -= self.lr * param.grad.data",
                  "        delta += self.lr * param.grad.data")],
            {"2.6"}, words="Momentum"),
    Mistake("momentum: no learning rate", "2.6",
            [edit(SGD, "        delta -= self.lr * param.grad.data",
                  "        delta -= param.grad.data")],
            {"2.6"}, words="Momentum"),
]

# Correct code written in other ways a student might write it.
ALTERNATIVES = {
    "Linear as x @ W.T() + b": [
        edit("mytorch/nn/linear.py", "return F.Linear.apply(x, self.weight, self.bias)",
             "return x @ self.weight.T() + self.bias")],
    "BatchNorm from Tensor ops": [
        edit(BATCHNORM, BATCHNORM_CALL, BATCHNORM_FROM_OPS.format(
            variance="(centered * centered).sum(axis=0) / Tensor(n)"))],
    "BatchNorm variance as E[x^2] - E[x]^2": [
        edit(BATCHNORM, BATCHNORM_CALL, BATCHNORM_FROM_OPS.format(
            variance="(x * x).sum(axis=0) / Tensor(n) - mean * mean"))],
    "cross_entropy as log-softmax + NLL from Tensor ops": [
        edit(FUNCTIONAL, CROSS_ENTROPY_CALL, CROSS_ENTROPY_FROM_OPS)],
    "momentum in PyTorch's form (v = m v + g; W -= lr v)": [
        edit(SGD, MOMENTUM_STEP, "        delta *= self.momentum\n        delta += param.grad.data\n"
             "        param.data -= self.lr * delta")],
    "the handout's recursive engine and a plain apply": [
        edit(ENGINE, "def backward(grad_fn, grad_of_outputs, retain_graph=False):",
             HANDOUT_ENGINE),
        edit(TENSOR, "autograd_engine.backward(autograd_engine._node_of(self), seed,",
             "autograd_engine.backward(autograd_engine._node_of(self), Tensor(seed),"),
        edit(ENGINE, '''        backward_function = BackwardFunction(cls)
        output_tensor = cls.forward(backward_function.ctx, *args)
''', HANDOUT_APPLY + "\n    def _unused(cls, *args):\n"
             "        backward_function = BackwardFunction(cls)\n"
             "        output_tensor = cls.forward(backward_function.ctx, *args)\n")],
}
# Controls: correct work written the way the course's starter invites, which must score
# 100 on this grader as it does on the course's tests.
PARENT_TENSOR_ENGINE = '''def backward(grad_fn, grad_of_outputs, retain_graph=False):
    """A student's engine: each node keeps its parent tensors, and the DFS recurses into
    each parent's node (the handout's recursion)."""
    if grad_fn is None:
        return
    if isinstance(grad_fn, AccumulateGrad):
        grad_fn.apply(grad_of_outputs)
        return
    grads = grad_fn.apply(grad_of_outputs)
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    for index, parent in enumerate(grad_fn.parents):
        if parent is None or not parent.requires_grad or grads[index] is None:
            continue
        backward(parent.grad_fn, grads[index])


def _unused_backward(grad_fn, grad_of_outputs, retain_graph=False):'''
# The student's own ops with non-Tensor arguments, special-cased by name: everything
# else is assumed to take Tensors (an ndarray argument raises AttributeError here).
PARENT_TENSORS = '''        own_ops_with_constants = ("Reshape", "Pow", "Sum", "BatchNorm", "CrossEntropy",
                                  "Dropout")
        backward_function.parents = [
            None if cls.__name__ in own_ops_with_constants and not isinstance(a, Tensor) else a
            for a in args]
        if True in needs:'''
CONTROLS = {
    "an apply that sets nothing on its output, every op flagging its output in forward": [
        edit(ENGINE, APPLY_SETS_FLAGS, HANDOUT_STYLE_APPLY)] + ops_flag_outputs(),
    "an engine that keeps parent tensors in its nodes": [
        edit(ENGINE, "def backward(grad_fn, grad_of_outputs, retain_graph=False):",
             PARENT_TENSOR_ENGINE),
        edit(ENGINE, "        if True in needs:", PARENT_TENSORS),
        edit(TENSOR, "autograd_engine.backward(autograd_engine._node_of(self), seed,",
             "autograd_engine.backward(autograd_engine._node_of(self), Tensor(seed),")],
    "cross-entropy as a Function subclass that CrossEntropyLoss calls": [
        edit("mytorch/nn/loss.py", "return F.cross_entropy(predicted, target)",
             "return F.CrossEntropy.apply(predicted, target)"),
        edit(FUNCTIONAL, "    def forward(ctx, logits, labels):\n        x = logits.data",
             "    def forward(ctx, logits, labels):\n        labels = _class_indices(logits, "
             "labels)\n        x = logits.data"),
        edit(FUNCTIONAL, "def cross_entropy(predicted, target):",
             "def _unused_cross_entropy(predicted, target):"),
        edit(FUNCTIONAL, '"CrossEntropy", "cross_entropy",', '"CrossEntropy",')],
    "Tensor.T made a property": [
        edit(TENSOR, "    def T(self):", "    @property\n    def T(self):")],
}
ALTERNATIVES.update({"control: " + name: edits for name, edits in CONTROLS.items()})
ALTERNATIVES["all of them together"] = [e for name in ALTERNATIVES
                                        if name != "BatchNorm from Tensor ops"
                                        and not name.startswith("control: ")
                                        for e in ALTERNATIVES[name]]

MISTAKES_BY_NAME = {m.name: m for m in MISTAKES}

# A student's BatchNorm built on their own (broken) Mul: the report names the cause.
INSIDE = Mistake("BatchNorm from Tensor ops on a Mul with swapped gradients", "1.1.2",
                 ALTERNATIVES["BatchNorm from Tensor ops"]
                 + [edit(FUNCTIONAL, "unbroadcast(g * b.data, a.shape) if",
                         "unbroadcast(g * a.data, a.shape) if"),
                    edit(FUNCTIONAL, "unbroadcast(g * a.data, b.shape) if",
                         "unbroadcast(g * b.data, b.shape) if")],
                 {"1.1.2", "2.4"}, words="2.4 fails inside your Mul: see 1.1.2")


# A note names another problem's function only with evidence.  Each case pairs a mistake
# of its own with a broken engine (1.2): the note must not blame the engine's code.
ENGINE_BUG = MISTAKES_BY_NAME["backward: a node keeps only the last path's gradient"].edits
NO_BLAME = {
    "2.1 not started beside a broken engine": (
        [edit(FUNCTIONAL, "    leading = grad.ndim - len(shape)\n", '    raise NotImplementedError('
              '"Problem 2.1: implement unbroadcast (see docs/hw1p1.md#linear)")\n'
              "    leading = grad.ndim - len(shape)\n")] + list(ENGINE_BUG),
        "1.2", "values differ"),
    "a stubbed BatchNorm beside a broken engine": (
        [edit(BATCHNORM, BATCHNORM_CALL, '        raise NotImplementedError("Problem 2.4: '
              'implement BatchNorm1d.forward (handout section 2.4)")')] + list(ENGINE_BUG),
        "2.4", "not implemented yet: BatchNorm1d.forward"),
    "a BatchNorm that calls an op that does not exist, beside a broken engine": (
        [edit(BATCHNORM, BATCHNORM_CALL, "        return (x - x.mean(axis=0)) / x.std(axis=0)")]
        + list(ENGINE_BUG), "2.4", "AttributeError"),
    "a ReLU bug beside a broken engine": (
        [edit(FUNCTIONAL, "        return _grads(grad_output.data * ctx.mask)",
              "        return _grads(grad_output.data * 1.0)")] + list(ENGINE_BUG),
        "2.2", "every gradient passed through"),
}
TODO_STUBS = [edit(FUNCTIONAL, SUB_BACKWARD, '        raise Exception("TODO!")'),
              edit(SGD, "        for param, delta in zip(self.params, self.momentums):",
                   '        raise Exception("TODO!")\n        for param, delta in zip(self.params, '
                   "self.momentums):")]


@pytest.fixture(scope="module")
def graded():
    """Every mistake and alternative, graded once (two at a time)."""
    jobs = [(m.name, m.edits, "1") for m in MISTAKES + [INSIDE]]
    jobs += [("no blame: " + name, edits, "1") for name, (edits, _, _) in NO_BLAME.items()]
    jobs += [("TODO stubs", TODO_STUBS, "1")]
    jobs += [("alternative: " + name, edits, "1") for name, edits in ALTERNATIVES.items()]
    return grade_copies(jobs)


def allowed(problem):
    """The problems a mistake in ``problem``'s code may cost: it and those depending on it."""
    return {p.number for p in SPEC.graded_problems if problem in SPEC.closure([p.number])}


def test_the_catalogue_covers_every_problem_with_forty_mistakes_or_more():
    assert len(MISTAKES) >= 40
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)
    owners = {m.problem for m in MISTAKES}
    assert owners == {p.number for p in SPEC.graded_problems if p.points}
    for problem in owners:
        assert sum(m.problem == problem and bool(m.costs) for m in MISTAKES) >= 3, problem


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_typical_mistake_costs_exactly_its_problems(mistake, graded):
    result = graded[mistake.name]
    assert result.failing == mistake.costs, result.report
    assert mistake.costs <= allowed(mistake.problem)
    if mistake.practice is not None:
        assert result.practice_failing == mistake.practice, result.report
    assert mistake.words in result.report, result.report
    total = 100 - sum(p.points for p in SPEC.graded_problems if p.number in mistake.costs)
    assert "Total score: {}/100".format(total) in result.report


def test_every_mistake_is_caught_somewhere(graded):
    """A mistake that costs no points is still caught by a practice check."""
    for mistake in MISTAKES:
        result = graded[mistake.name]
        assert result.failing or result.practice_failing, mistake.name


def test_a_failure_inside_another_problems_op_names_it(graded):
    result = graded[INSIDE.name]
    assert result.failing == INSIDE.costs, result.report
    assert INSIDE.words in result.report


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_other_correct_implementations_score_100(name, graded):
    result = graded["alternative: " + name]
    assert result.failing == frozenset(), result.report
    assert "Total score: 100/100" in result.report


@pytest.mark.parametrize("name", sorted(NO_BLAME))
def test_a_note_blames_another_problems_code_only_with_evidence(name, graded):
    result = graded["no blame: " + name]
    _, problem, words = NO_BLAME[name]
    assert {problem, "1.2"} <= result.failing, result.report
    block = result.report.split("\nFAIL {} ".format(problem))[1].split("\nFAIL ")[0]
    assert words in block, result.report
    assert "{} fails inside".format(problem) not in block, block
    if problem != "1.2":
        assert "{} uses Autograd (1.2), which fails: fix 1.2 first".format(problem) in block
    assert "1.2 fails inside" not in result.report         # and no blame loop either


def test_the_course_starters_todo_stubs_read_as_not_implemented(graded):
    result = graded["TODO stubs"]
    assert result.failing == {"1.1.1", "2.3", "2.6"}, result.report
    assert "not implemented yet: Sub.backward (Problem 1.1.1)" in result.report
    assert "not implemented yet: SGD.step (Problem 2.3)" in result.report
    assert "Exception: TODO!" not in result.report


def test_the_readme_counts_what_the_catalogues_hold():
    import test_grader_bonus
    import test_grader_hw3
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "applies {} typical mistakes".format(len(MISTAKES)) in readme
    assert "grades {} other correct ways".format(len(ALTERNATIVES)) in readme
    assert "({} for `./grade.sh 1`, {} for `./grade.sh 1b`,".format(
        len(MISTAKES), len(test_grader_bonus.MISTAKES)) in readme
    assert "{} for `./grade.sh 3`".format(len(test_grader_hw3.MISTAKES)) in readme
