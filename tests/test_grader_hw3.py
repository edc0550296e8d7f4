"""./grade.sh 3 against typical HW3 mistakes, practice-mode stubs and other correct code.

Every mistake is an edit of the reference source, applied to a scratch copy of the
student's folders and graded by the real runner (tests/grader_harness.py).  Each test
pins exactly which problems a mistake costs: its own part's problems (a Forward and its
Backward grade one function) and those that build on them (2.2 on 1.4 and 2.1), never
more, which is what the grader's own Slice, Cat and RNN unit are for.  The report must
point at the fix.  Correct code written in other ways scores 100, and so does the
library on the handout's own conventions (an apply that sets nothing on its output, an
engine that keeps parent tensors).  Practice mode: the starter grades 0, restoring one
part scores exactly its problems, stubbing one costs exactly them and their dependents.
"""
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import mytorch.nn.rnn
import mytorch.nn.util
import mytorch.tensor
from autograder import specs
from autograder.hw3_autograder import grader_ops
from autograder.make_handout import stubbed_parts, write_handout
from mytorch.tensor import Tensor
from grader_harness import Edit, Mistake, grade_copies, stub_keys
from test_grader_catalogue import (APPLY_SETS_FLAGS, ENGINE, HANDOUT_STYLE_APPLY,
                                   PARENT_TENSOR_ENGINE, PARENT_TENSORS, ops_flag_outputs)
from test_tarball import copy_project

ROOT = Path(__file__).resolve().parents[1]
SPEC = specs.get("3")
SCORED = [p.number for p in SPEC.graded_problems]
TENSOR = "mytorch/tensor.py"
FUNCTIONAL = "mytorch/nn/functional.py"
UTIL = "mytorch/nn/util.py"
RNN = "mytorch/nn/rnn.py"
GRU = "mytorch/nn/gru.py"
UNIT_1_1 = {"1.1.1", "1.1.2"}
CAT = {"1.2.1.1", "1.2.1.2"}
SLICE = {"1.2.2.1", "1.2.2.2"}
PACK = {"1.3.1.1", "1.3.1.2"}
UNPACK = {"1.3.2.1", "1.3.2.2"}
LOOP = {"1.4.1", "1.4.2", "2.2"}
GRU_UNIT = {"2.1.1", "2.1.2", "2.2"}


def edit(path, old, new):
    return Edit(path, old, new)


RNN_FORWARD = '''        h = initial_hidden(self, x, h)
        return self.act(F.Linear.apply(x, self.weight_ih, self.bias_ih)
                        + F.Linear.apply(h, self.weight_hh, self.bias_hh))'''
CACHED_WEIGHTS = '''        h = initial_hidden(self, x, h)
        if "_copies" not in self.__dict__:
            object.__setattr__(self, "_copies", [Tensor(p.data.copy(), requires_grad=True)
                                                 for p in (self.weight_ih, self.bias_ih,
                                                           self.weight_hh, self.bias_hh)])
        w_ih, b_ih, w_hh, b_hh = self._copies
        return self.act(F.Linear.apply(x, w_ih, b_ih) + F.Linear.apply(h, w_hh, b_hh))'''
PACK_ROWS = '''    rows = np.concatenate([starts[sorted_indices[:size]] + t
                           for t, size in enumerate(batch_sizes)])'''
PACK_RETURN = "    return PackedSequence(cat(list(sequence), dim=0)[rows], sorted_indices, batch_sizes)"
GATES = '''        r = _sigmoid(X @ w_ir.data.T + Hd @ w_hr.data.T + (b_ir.data + b_hr.data))
        z = _sigmoid(X @ w_iz.data.T + Hd @ w_hz.data.T + (b_iz.data + b_hz.data))'''
CANDIDATE = '''        hn = Hd @ w_hn.data.T + b_hn.data
        n = np.tanh(X @ w_in.data.T + b_in.data + r * hn)'''

# --------------------------------------------------------------------------- #
# The catalogue
# --------------------------------------------------------------------------- #
MISTAKES = [
    # 1.1 RNN unit
    Mistake("RNNUnit always uses tanh", "1.1.1",
            [edit(RNN, "return self.act(F.Linear.apply(x, self.weight_ih, self.bias_ih)",
                  'return NONLINEARITIES["tanh"]()(F.Linear.apply(x, self.weight_ih, '
                  'self.bias_ih)')],
            UNIT_1_1, words="pattern: tanh instead of relu"),
    Mistake("RNNUnit without bias_hh", "1.1.1",
            [edit(RNN, "+ F.Linear.apply(h, self.weight_hh, self.bias_hh))",
                  "+ h @ self.weight_hh.T())")],
            UNIT_1_1, words="pattern: bias_hh is missing"),
    Mistake("RNNUnit ignores h", "1.1.1",
            [edit(RNN, RNN_FORWARD, RNN_FORWARD.replace("initial_hidden(self, x, h)",
                                                        "initial_hidden(self, x, None)"))],
            UNIT_1_1, words="pattern: the hidden state h was ignored"),
    Mistake("RNNUnit reads its weight as a constant copy", "1.1.2",
            [edit(RNN, "F.Linear.apply(x, self.weight_ih, self.bias_ih)",
                  "F.Linear.apply(x, Tensor(self.weight_ih.data), self.bias_ih)")],
            {"1.1.2"}, words="weight_ih.grad: got None: no gradient arrived for it. Build the "
                             "forward from the parameter Tensors themselves"),
    Mistake("RNNUnit keeps copies of the first call's weights", "1.1.1",
            [edit(RNN, RNN_FORWARD, CACHED_WEIGHTS)],
            UNIT_1_1, words="pattern: the first call's weights were used"),
    # 1.2.1 Concatenation
    Mistake("Cat.forward joins along dim 0 whatever the dim", "1.2.1.1",
            [edit(FUNCTIONAL, "        axis = int(dim) % ndim\n", "        axis = 0\n")],
            CAT, words="along dim -1 every shape must match"),
    Mistake("Cat.backward cuts along dim 0", "1.2.1.2",
            [edit(FUNCTIONAL, "np.split(grad_output.data, ctx.ends, axis=ctx.axis)",
                  "np.split(grad_output.data, ctx.ends, axis=0)")],
            {"1.2.1.2"}, words="Cat.backward(tensors of shapes (2, 3), (2, 5), dim=-1; random "
                               "grad_output): gradient of tensor 0: shape (2, 3) expected"),
    Mistake("cat passes the dim first", "1.2.1.1",
            [edit(TENSOR, "return F.Cat.apply(*seq, dim)", "return F.Cat.apply(dim, *seq)")],
            CAT, words="Cat expects Tensors"),
    # 1.2.2 Slicing
    Mistake("Slice.backward assigns instead of adding", "1.2.2.2",
            [edit(FUNCTIONAL, "        if ctx.adds:\n", "        if False:\n")],
            {"1.2.2.2"}, words="pattern: assigned instead of added"),
    Mistake("Slice.backward returns grad_output unscattered", "1.2.2.2",
            [edit(FUNCTIONAL, "        return _grads(grad, None)\n\n\ndef _index_key",
                  "        return _grads(grad_output.data, None)\n\n\ndef _index_key")],
            {"1.2.2.2"}, words="Slice.backward: gradient of x, x[2] for x of shape (6,)"),
    Mistake("a list key becomes a tuple of ints", "1.2.2.1",
            [edit(FUNCTIONAL, "    return key.data if isinstance(key, tensor.Tensor) else key",
                  "    return key.data if isinstance(key, tensor.Tensor) else "
                  "(tuple(key) if isinstance(key, list) else key)")],
            SLICE, words="too many indices"),
    Mistake("Tensor.__getitem__ indexes the array outside the graph", "1.2.2.1",
            [edit(TENSOR, "return F.Slice.apply(self, key)", "return Tensor(self.data[key])")],
            SLICE, words="should call F.Slice.apply(x, key) once"),
    # 1.2.3 Unsqueeze
    Mistake("unsqueeze counts negative dims modulo ndim", "1.2.3",
            [edit(TENSOR, "shape.insert(int(dim) % (ndim + 1), 1)",
                  "shape.insert(int(dim) % max(ndim, 1), 1)")],
            {"1.2.3"}, words="pattern: the new axis went in at dim"),
    Mistake("unsqueeze outside the graph", "1.2.3",
            [edit(TENSOR, "return F.Reshape.apply(self, tuple(shape))",
                  "return Tensor(self.data.reshape(tuple(shape)))")],
            {"1.2.3"}, words="the result does not require grad"),
    Mistake("unsqueeze takes any dim", "1.2.3",
            [edit(TENSOR, "        if not -ndim - 1 <= dim <= ndim:\n            raise IndexError(",
                  "        if False:\n            raise IndexError(")],
            {"1.2.3"}, words="instead of raising IndexError"),
    # 1.3.1 pack_sequence
    Mistake("sorted_indices from an unstable sort", "1.3.1.1",
            [edit(UTIL, 'sorted_indices = np.argsort(-lengths, kind="stable")',
                  "sorted_indices = np.argsort(lengths)[::-1]")],
            PACK, words="pattern: sequences of equal length in reverse input order"),
    Mistake("batch_sizes are the sorted lengths", "1.3.1.1",
            [edit(UTIL, "batch_sizes = (lengths[:, None] > np.arange(lengths.max())).sum(axis=0)",
                  "batch_sizes = lengths[sorted_indices]")],
            PACK, words="batch_sizes[t] is the number of sequences that have a step t"),
    Mistake("pack_sequence's data computed in NumPy", "1.3.1.2",
            [edit(UTIL, PACK_RETURN, "    return PackedSequence(Tensor(np.concatenate([t.data for "
                  "t in sequence])[rows]), sorted_indices, batch_sizes)")],
            {"1.3.1.2"}, words="the packed data does not require grad"),
    Mistake("pack_sequence keeps each sequence's steps together", "1.3.1.1",
            [edit(UTIL, PACK_ROWS, "    rows = np.concatenate([starts[i] + np.arange(lengths[i]) "
                  "for i in sorted_indices])")],
            PACK, words="pattern: each sequence's steps together (sequence-major)"),
    # 1.3.2 unpack_sequence
    Mistake("unpack_sequence returns the sorted order", "1.3.2.1",
            [edit(UTIL, "sequences[index] = data[offsets[:steps] + rank]",
                  "sequences[rank] = data[offsets[:steps] + rank]")],
            UNPACK, words="in their input order, not sorted"),
    Mistake("unpack_sequence reads the longest sequence's rows for all", "1.3.2.1",
            [edit(UTIL, "sequences[index] = data[offsets[:steps] + rank]",
                  "sequences[index] = data[offsets[:steps]]")],
            UNPACK, words="unpack_sequence(the PackedSequence of sequences of lengths [3, 5, 1, "
                          "3]"),
    Mistake("unpack_sequence computes in NumPy", "1.3.2.2",
            [edit(UTIL, "sequences[index] = data[offsets[:steps] + rank]",
                  "sequences[index] = Tensor(data.data[offsets[:steps] + rank])")],
            {"1.3.2.2"}, words="does not require grad, though the packed data does"),
    # 1.4 The time iterator
    Mistake("the hidden state is not carried between steps", "1.4.1",
            [edit(RNN, "            h = self.unit(data[start:start + size], h)\n"
                  "            outputs.append(h)\n",
                  "            outputs.append(self.unit(data[start:start + size], h))\n")],
            LOOP, words="pattern: the hidden state was not carried from one step to the next"),
    Mistake("h_last in input order", "1.4.1",
            [edit(RNN, "            output[last_rows(batch_sizes)]",
                  "            output[last_rows(batch_sizes)][np.argsort(sorted_indices)]")],
            LOOP, words="pattern: h_last in input order, not sorted order"),
    Mistake("h_last is the last step's state", "1.4.1",
            [edit(RNN, "            output[last_rows(batch_sizes)]", "            h")],
            LOOP, words="pattern: only the last time step's states"),
    Mistake("last_rows forgets each sequence's rank", "1.4.1",
            [edit(RNN, "    return starts[lengths - 1] + ranks", "    return starts[lengths - 1]")],
            LOOP, words="h_last: values differ"),
    Mistake("the initial hidden state is ignored", "1.4.1",
            [edit(RNN, "        h, outputs, start = hidden, [], 0",
                  "        h, outputs, start = None, [], 0")],
            LOOP, words="pattern: the hidden argument was ignored"),
    Mistake("the hidden state keeps the last rows, not the first", "1.4.1",
            [edit(RNN, "                h = h[:size]", "                h = h[-size:]")],
            LOOP, words="output.data (the hidden state at every step, packed): values differ"),
    Mistake("the hidden state is detached between steps", "1.4.2",
            [edit(RNN, "            outputs.append(h)\n",
                  "            outputs.append(h)\n            h = Tensor(h.data)\n")],
            {"1.4.2"}, words="pattern: the gradient stopped between steps"),
    # 2.1 GRU unit
    Mistake("the r and z gates are swapped", "2.1.1",
            [edit(FUNCTIONAL, GATES, GATES.replace("        r = ", "        R = ").replace(
                "        z = ", "        r = ").replace("        R = ", "        z = "))],
            GRU_UNIT, words="pattern: the r and z gates are swapped"),
    Mistake("b_hn added outside the r * product", "2.1.1",
            [edit(FUNCTIONAL, CANDIDATE, "        hn = Hd @ w_hn.data.T\n        n = np.tanh(X @ "
                  "w_in.data.T + b_in.data + r * hn + b_hn.data)")],
            GRU_UNIT, words="pattern: b_hn added outside the r * product"),
    # (the fused cell's backward is written from the sheet's equations, apart from its
    # forward: only the values are wrong, its gradients are those of the right GRU)
    Mistake("z and 1 - z swapped in h'", "2.1.1",
            [edit(FUNCTIONAL, "return tensor.Tensor(n + z * (Hd - n))",
                  "return tensor.Tensor(Hd + z * (n - Hd))")],
            {"2.1.1", "2.2"}, words="pattern: z and (1 - z) swapped"),
    Mistake("GRUUnit ignores h", "2.1.1",
            [edit(GRU, "h = initial_hidden(self, x, h)", "h = initial_hidden(self, x, None)")],
            GRU_UNIT, words="pattern: the hidden state h was ignored"),
    Mistake("GRUCell.backward: bias_hn's gradient without r", "2.1.2",
            [edit(FUNCTIONAL, "da_n.sum(axis=0), d_hn.sum(axis=0))",
                  "da_n.sum(axis=0), da_n.sum(axis=0))")],
            {"2.1.2"}, words="bias_hn.grad: values differ"),
    Mistake("GRUCell.backward: h's gradient without the g * z term", "2.1.2",
            [edit(FUNCTIONAL, "grad_h = g * z + da_r", "grad_h = da_r")],
            {"2.1.2"}, words="h.grad: values differ"),
]

# A mistake in HW1's Linear, which the RNN unit runs: the report names it.
INSIDE = Mistake("HW1's Linear without the bias, inside the RNN unit", "2.1 of ./grade.sh 1",
                 [edit(FUNCTIONAL, "x.data @ weight.data.T + bias.data", "x.data @ weight.data.T")],
                 UNIT_1_1, words="1.1.1 fails inside your Linear: see 2.1 of ./grade.sh 1")

# Correct code written in other ways a student might write it.
ALTERNATIVES = {
    "Slice.backward always adds with np.add.at": [
        edit(FUNCTIONAL, "        if ctx.adds:\n", "        if True:\n")],
    "Cat.backward cuts with slices": [
        edit(FUNCTIONAL, "        pieces = np.split(grad_output.data, ctx.ends, axis=ctx.axis)\n",
             "        g = grad_output.data\n"
             "        bounds = [0] + list(ctx.ends) + [g.shape[ctx.axis]]\n"
             "        pieces = []\n"
             "        for i in range(len(bounds) - 1):\n"
             "            index = [slice(None)] * g.ndim\n"
             "            index[ctx.axis] = slice(bounds[i], bounds[i + 1])\n"
             "            pieces.append(g[tuple(index)])\n")],
    "unsqueeze through Tensor.reshape": [
        edit(TENSOR, "return F.Reshape.apply(self, tuple(shape))",
             "return self.reshape(tuple(shape))")],
    "pack_sequence from each step's slices, sorted by Python's stable sorted()": [
        edit(UTIL, 'sorted_indices = np.argsort(-lengths, kind="stable")',
             "sorted_indices = np.array(sorted(range(len(lengths)), key=lambda i: lengths[i], "
             "reverse=True))"),
        edit(UTIL, PACK_RETURN,
             "    ordered = [sequence[i] for i in sorted_indices]\n"
             "    pieces = [seq[t:t + 1] for t, size in enumerate(batch_sizes) "
             "for seq in ordered[:size]]\n"
             "    return PackedSequence(cat(pieces, dim=0), sorted_indices, batch_sizes)")],
    "unpack_sequence as a cat of single rows": [
        edit(UTIL, "sequences[index] = data[offsets[:steps] + rank]",
             "sequences[index] = cat([data[int(offsets[t]) + rank:int(offsets[t]) + rank + 1] "
             "for t in range(steps)], dim=0)")],
    "TimeIterator keeps each sequence's last state as it ends": [
        edit(RNN, '''        for size in batch_sizes.tolist():
            if h is not None and h.shape[0] > size:
                h = h[:size]                       # the shortest sequences have ended
            h = self.unit(data[start:start + size], h)
            outputs.append(h)
            start += size
        output = cat(outputs) if len(outputs) > 1 else outputs[0]
        return PackedSequence(output, sorted_indices, batch_sizes), \\
            output[last_rows(batch_sizes)]''', '''        ended = []
        for size in batch_sizes.tolist():
            if h is not None and h.shape[0] > size:
                ended.append(h[size:])
                h = h[:size]
            h = self.unit(data[start:start + size], h)
            outputs.append(h)
            start += size
        ended.append(h)
        output = cat(outputs) if len(outputs) > 1 else outputs[0]
        h_last = cat(ended[::-1]) if len(ended) > 1 else ended[0]
        return PackedSequence(output, sorted_indices, batch_sizes), h_last''')],
    "TimeIterator starts from a Tensor of zeros": [
        edit(RNN, "        h, outputs, start = hidden, [], 0",
             "        h, outputs, start = hidden, [], 0\n        if h is None:\n"
             "            h = Tensor.zeros(int(batch_sizes[0]), self.unit.hidden_size)")],
    "RNNUnit from @, .T() and +": [
        edit(RNN, RNN_FORWARD, "        h = initial_hidden(self, x, h)\n"
             "        return self.act(x @ self.weight_ih.T() + self.bias_ih\n"
             "                        + h @ self.weight_hh.T() + self.bias_hh)")],
    "GRUUnit from Tensor operations, one node per term": [
        edit(GRU, '''        return F.GRUCell.apply(x, h, self.weight_ir, self.weight_iz, self.weight_in,
                               self.weight_hr, self.weight_hz, self.weight_hn,
                               self.bias_ir, self.bias_iz, self.bias_in,
                               self.bias_hr, self.bias_hz, self.bias_hn)''', '''        r = F.Sigmoid.apply(x @ self.weight_ir.T() + self.bias_ir
                            + h @ self.weight_hr.T() + self.bias_hr)
        z = F.Sigmoid.apply(x @ self.weight_iz.T() + self.bias_iz
                            + h @ self.weight_hz.T() + self.bias_hz)
        n = F.Tanh.apply(x @ self.weight_in.T() + self.bias_in
                         + r * (h @ self.weight_hn.T() + self.bias_hn))
        return (1 - z) * n + z * h''')],
    # Controls: the handout's conventions, which the grader's own Functions must meet.
    "control: an apply that sets nothing on its output, every op flagging its output": [
        edit(ENGINE, APPLY_SETS_FLAGS, HANDOUT_STYLE_APPLY), ops_flag_outputs()[0],
        edit(FUNCTIONAL, '''                             "hidden_size {}".format(name, t.shape, shape, inputs, hidden))
''', '''                             "hidden_size {}".format(name, t.shape, shape, inputs, hidden))


_flag_every_output()
''')],
    "control: an engine that keeps parent tensors in its nodes": [
        edit(ENGINE, "def backward(grad_fn, grad_of_outputs, retain_graph=False):",
             PARENT_TENSOR_ENGINE),
        edit(ENGINE, "        if True in needs:", PARENT_TENSORS.replace(
            '"Dropout")', '"Dropout", "Slice", "Cat")')),
        edit(TENSOR, "autograd_engine.backward(autograd_engine._node_of(self), seed,",
             "autograd_engine.backward(autograd_engine._node_of(self), Tensor(seed),")],
}


def parts_of(problem):
    """The problems that grade the same student function as ``problem``."""
    return {p.number for p in SPEC.problems_of_part(SPEC.problem(problem).part)}


def allowed(problem):
    """What a mistake in ``problem``'s function may cost: its part's problems and those
    that depend on them."""
    own = parts_of(problem)
    return {p for p in SCORED if own & SPEC.closure([p])}


# --------------------------------------------------------------------------- #
# Grading every copy once
# --------------------------------------------------------------------------- #
PART_NAMES = [n for n in SPEC.part_names() if SPEC.parts_of([n])]


@pytest.fixture(scope="module")
def graded():
    """Every mistake, alternative and practice-mode copy, graded once (two at a time)."""
    jobs = [(m.name, m.edits, "3") for m in MISTAKES + [INSIDE]]
    jobs += [("alternative: " + name, edits, "3") for name, edits in ALTERNATIVES.items()]
    jobs += [("restore " + p, [], "3", stub_keys(stubbed_parts(3, keep=[p])))
             for p in PART_NAMES + ["2.2"]]
    jobs += [("stub " + p, [], "3", [("3", p)]) for p in PART_NAMES]
    return grade_copies(jobs)


def test_the_catalogue_has_25_mistakes_or_more_and_covers_every_part():
    assert len(MISTAKES) >= 25
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)
    owners = {SPEC.problem(m.problem).part for m in MISTAKES}
    assert owners == set(PART_NAMES)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_typical_mistake_costs_exactly_its_problems(mistake, graded):
    result = graded[mistake.name]
    assert result.failing == mistake.costs, result.report
    assert mistake.costs <= allowed(mistake.problem)
    assert mistake.words in result.report, result.report
    total = 100 - sum(p.points for p in SPEC.graded_problems if p.number in mistake.costs)
    assert "Total score: {}/100".format(total) in result.report


def test_a_failure_inside_a_hw1_part_names_it(graded):
    result = graded[INSIDE.name]
    assert result.failing == INSIDE.costs, result.report
    assert INSIDE.words in result.report


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_other_correct_implementations_score_100(name, graded):
    result = graded["alternative: " + name]
    assert result.failing == frozenset(), result.report
    assert "Total score: 100/100" in result.report


# --------------------------------------------------------------------------- #
# Practice mode
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("part", PART_NAMES + ["2.2"])
def test_restoring_one_part_in_the_starter_scores_exactly_its_problems(part, graded):
    result = graded["restore " + part]
    restored = SPEC.closure([p.number for p in SPEC.problems_of_part(part)])
    restored = {p for p in SCORED if parts_of(p) & restored}
    assert result.failing == set(SCORED) - restored, result.report
    for key, score in result.scores.items():
        problem = next(p for p in SPEC.graded_problems if p.key == key)
        assert score == (problem.points if problem.number in restored else 0), key


@pytest.mark.parametrize("part", PART_NAMES)
def test_stubbing_one_part_costs_exactly_its_problems_and_their_dependents(part, graded):
    result = graded["stub " + part]
    own = {p.number for p in SPEC.problems_of_part(part)}
    assert result.failing == {p for p in SCORED if own & SPEC.closure([p])}, result.report
    assert "not implemented yet" in result.report


def run(args, cwd):
    return subprocess.run([str(a) for a in args], cwd=str(cwd), capture_output=True, text=True,
                          timeout=180, env=dict(os.environ, PYTHON=sys.executable))


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    return write_handout(tmp_path_factory.mktemp("practice") / "hw3p1", homework=3)


def test_the_starter_grades_0_and_says_what_is_not_implemented(starter):
    result = run(["sh", starter / "grade.sh", "3"], starter)
    assert result.returncode == 1, result.stderr
    report = result.stdout
    assert "Total score: 0/100" in report and "Traceback" not in report + result.stderr
    assert set(json.loads(report.strip().splitlines()[-1])["scores"].values()) == {0}
    for problem in SPEC.graded_problems:
        block = report.split("FAIL {} ".format(problem.key))[1].split("\nFAIL ")[0]
        words = "not graded" if problem.number == "2.2" else "not implemented yet:"
        assert words in block, problem.number


def test_the_starter_keeps_hw1_done(starter):
    result = run(["sh", starter / "grade.sh", "1"], starter)
    assert result.returncode == 0 and "Total score: 100/100" in result.stdout, result.stdout


def test_the_starter_stubs_the_fused_gru_cell_and_its_readme_lists_every_part(starter):
    source = (starter / FUNCTIONAL).read_text()
    cell = specs.functions_in(str(starter / FUNCTIONAL))["GRUCell.forward"]
    assert "NotImplementedError" in source and "_sigmoid(X @ w_ir" not in source
    assert type(cell.body[-1]).__name__ == "Raise"
    readme = (starter / "README.md").read_text()
    assert "./grade.sh 3 1.1.1" in readme
    for part in SPEC.parts:
        assert "`{}`".format(part.qualname) in readme


def test_each_part_names_a_section_the_sheet_anchors():
    sheet = (ROOT / SPEC.sheet).read_text()
    for part in SPEC.parts:
        assert '<a id="{}"></a>'.format(part.section) in sheet, part
        assert "(see docs/hw3p1.md#{})".format(part.section) in SPEC.stub_message(part)


def test_the_spec_is_the_courses_table():
    table = [(p.number, p.key, p.points) for p in SPEC.graded_problems]
    assert table == [
        ("1.1.1", "rnnunitforward", 10), ("1.1.2", "rnnunitbackward", 5),
        ("1.2.1.1", "testcatforward", 3), ("1.2.1.2", "testcatbackward", 4),
        ("1.2.2.1", "testsliceforward", 2), ("1.2.2.2", "testslicebackward", 3),
        ("1.2.3", "testunsqueeze", 3), ("1.3.1.1", "test_packseq_forward", 10),
        ("1.3.1.2", "test_packseq_backward", 5), ("1.3.2.1", "test_unpackseq_forward", 10),
        ("1.3.2.2", "test_unpackseq_backward", 5), ("1.4.1", "test_timeitr_forward", 10),
        ("1.4.2", "test_timeitr_backward", 10), ("2.1.1", "test_gru_unit_forward", 10),
        ("2.1.2", "test_gru_unit_backward", 5), ("2.2", "test_gru_forward", 5)]
    assert SPEC.depends_on["2.2"] == ("1.4.1", "2.1.1")
    assert all(not SPEC.depends_on[p] for p in SCORED if p != "2.2")
    assert [p.number for p in SPEC.problems_of_part("1.1")] == ["1.1.1", "1.1.2"]


# --------------------------------------------------------------------------- #
# The tarball
# --------------------------------------------------------------------------- #
def test_create_tarball_3_packs_the_py_files_of_mytorch_and_hw3(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "hw3" / "notes.txt").write_text("mine")
    result = run(["sh", project / "create_tarball.sh", "3"], project.parent)
    assert result.returncode == 0, result.stderr
    with tarfile.open(str(project / "handin.tar")) as tar:
        names = sorted(tar.getnames())
    expected = sorted([p.relative_to(project).as_posix() for p in (project / "mytorch").rglob("*.py")
                       if "__pycache__" not in p.parts]
                      + [p.relative_to(project).as_posix() for p in (project / "hw3").glob("*.py")])
    assert names == expected and "hw3/mnist_gru.py" in names
    assert "hw3/notes.txt" in result.stdout.split("Left out")[1]


# --------------------------------------------------------------------------- #
# The grader's own operations
# --------------------------------------------------------------------------- #
def test_the_grader_swaps_its_own_operations_in_and_restores_the_students():
    before = {(owner, name): vars(owner)[name] for owner, name in (
        (Tensor, "__getitem__"), (Tensor, "unsqueeze"), (mytorch.tensor, "cat"),
        (mytorch.nn.util, "cat"), (mytorch.nn.rnn, "cat"),
        (mytorch.nn.util, "pack_sequence"), (mytorch.nn.util, "unpack_sequence"))}
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    with grader_ops.grader_tensor_ops(packing=True):
        assert mytorch.nn.util.cat is grader_ops.cat and mytorch.nn.rnn.cat is grader_ops.cat
        assert mytorch.nn.util.pack_sequence is grader_ops.pack_sequence
        y = x[1:, ::-2]
        assert type(y.grad_fn).__name__ == "BackwardFunction" and \
            y.grad_fn.function_name == "Take"
        z = mytorch.tensor.cat([y, x[:1, [0, 0]]], dim=0).unsqueeze(-1)
        assert z.shape == (3, 2, 1)
    for (owner, name), value in before.items():
        assert vars(owner)[name] is value, name
    z.backward()
    assert x.grad.data.tolist() == [[2, 0, 0, 0], [0, 1, 0, 1], [0, 1, 0, 1]]
