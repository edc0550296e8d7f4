"""HW3 Part 1 (``./grade.sh 3``): the RNN unit, slicing, cat, unsqueeze, packed sequences,
the time iterator, the GRU unit and the GRU: the course's table and Autolab names, 100
points.

Each forward/backward pair grades one student function (``Problem.part``): RNNUnit.forward
costs both 1.1.1 and 1.1.2, Slice costs 1.2.2.1 and 1.2.2.2, and so on.

Isolation: only the 1.2 tests run the student's Slice, Cat and unsqueeze.  Every other
test runs on the grader's own indexing, ``cat`` and ``unsqueeze`` (grader_ops.py swaps
them in for the test), so packing, unpacking, the time iterator and the units cost
nothing when slicing is wrong; the time iterator runs on the grader's own RNN unit
(``TimeIterator(GraderRNNUnit, ...)``), so a unit bug does not cost 1.4.  The one
dependency: the GRU (2.2) is a TimeIterator over a GRUUnit, so its test counts only once
1.4.1 and 2.1.1 pass (``@builds_on``), and is "not graded" until then.  Everything runs on
the student's HW1 engine and layers (RNNUnit uses Linear and the activations): ./grade.sh 1
is graded silently first, so a failure inside one of its parts is named.

The student's parts: ``cat`` and Cat (1.2.1), ``Tensor.__getitem__`` and Slice with its
helper ``_index_key`` (1.2.2), ``Tensor.unsqueeze`` (1.2.3), ``pack_sequence`` (1.3.1),
``unpack_sequence`` (1.3.2), ``TimeIterator.forward`` with its helper ``last_rows`` (1.4),
``RNNUnit.forward`` (1.1), ``GRUUnit.forward`` (2.1).  The library's ``F.GRUCell`` (one GRU
step in one node) is a complete answer to 2.1, so it goes with 2.1 too.  Given, and never
stubbed: ``Tensor.__iter__``, ``PackedSequence``, the constructors of the units and
layers, and the checks ``initial_hidden``, ``_check_hidden``, ``_check_packed``,
``_lengths``.
"""
from autograder.specs import Homework, Part, Problem

TENSOR = "mytorch/tensor.py"
FUNCTIONAL = "mytorch/nn/functional.py"
UTIL = "mytorch/nn/util.py"
RNN = "mytorch/nn/rnn.py"
GRU = "mytorch/nn/gru.py"


def _parts(part, section, files):
    """The Parts of ``part`` ({file: [qualname, ...]}), explained at ``section`` (an anchor
    of docs/hw3p1.md)."""
    return [Part(part, path, name, section=section)
            for path, names in files.items() for name in names]


PARTS = (
    _parts("1.1", "rnn-unit", {RNN: ["RNNUnit.forward"]})
    + _parts("1.2.1", "concatenation", {TENSOR: ["cat"],
                                         FUNCTIONAL: ["Cat.forward", "Cat.backward"]})
    + _parts("1.2.2", "slicing", {TENSOR: ["Tensor.__getitem__"],
                                  FUNCTIONAL: ["Slice.forward", "Slice.backward", "_index_key"]})
    + _parts("1.2.3", "unsqueeze", {TENSOR: ["Tensor.unsqueeze"]})
    + _parts("1.3.1", "pack-sequence", {UTIL: ["pack_sequence"]})
    + _parts("1.3.2", "unpack-sequence", {UTIL: ["unpack_sequence"]})
    + _parts("1.4", "time-iterator", {RNN: ["TimeIterator.forward", "last_rows"]})
    + _parts("2.1", "gru-unit", {GRU: ["GRUUnit.forward"],
                                 FUNCTIONAL: ["GRUCell.forward", "GRUCell.backward"]})
)

GUIDE = """\
Read `docs/hw3p1.md` first: it states every question with its shapes, equations and
points, and each `NotImplementedError` names the section to read. The questions are
graded apart: packing, the time iterator and the units run on the grader's own slicing
and `cat`, and the time iterator on the grader's own RNN unit, so you can do them in
any order. 2.2 has nothing of its own to write (`GRU` is given, a TimeIterator over
your GRUUnit): it is graded once 1.4 and 2.1 pass. HW1 and HW2 are done in this copy:
your layers build on them. `./create_tarball.sh 3` packs `handin.tar`.

The reference solution's GRUUnit runs one `F.GRUCell` Function (the whole step in one
node, with its backward written out); it is listed with 2.1 so you can write it too,
but a GRUUnit built from Tensor operations scores the same.
"""

SPEC = Homework(
    command="3",
    title="HW3 Part 1",
    homework=3,
    problems=[      # the course's Autolab names are the keys, exactly
        Problem("1.1.1", "RNN Unit Forward", 10, ("test_rnn_unit", "test_rnn_unit_forward"),
                key="rnnunitforward", part="1.1"),
        Problem("1.1.2", "RNN Unit Backward", 5, ("test_rnn_unit", "test_rnn_unit_backward"),
                key="rnnunitbackward", part="1.1"),
        Problem("1.2.1.1", "Concatenation Forward", 3, ("test_tensor_ops", "test_cat_forward"),
                key="testcatforward", part="1.2.1"),
        Problem("1.2.1.2", "Concatenation Backward", 4, ("test_tensor_ops", "test_cat_backward"),
                key="testcatbackward", part="1.2.1"),
        Problem("1.2.2.1", "Slicing Forward", 2, ("test_tensor_ops", "test_slice_forward"),
                key="testsliceforward", part="1.2.2"),
        Problem("1.2.2.2", "Slicing Backward", 3, ("test_tensor_ops", "test_slice_backward"),
                key="testslicebackward", part="1.2.2"),
        Problem("1.2.3", "Unsqueeze", 3, ("test_tensor_ops", "test_unsqueeze"),
                key="testunsqueeze"),
        Problem("1.3.1.1", "Pack Sequence Forward", 10, ("test_packing", "test_pack_forward"),
                key="test_packseq_forward", part="1.3.1"),
        Problem("1.3.1.2", "Pack Sequence Backward", 5, ("test_packing", "test_pack_backward"),
                key="test_packseq_backward", part="1.3.1"),
        Problem("1.3.2.1", "UnPack Sequence Forward", 10,
                ("test_packing", "test_unpack_forward"), key="test_unpackseq_forward",
                part="1.3.2"),
        Problem("1.3.2.2", "UnPack Sequence Backward", 5,
                ("test_packing", "test_unpack_backward"), key="test_unpackseq_backward",
                part="1.3.2"),
        Problem("1.4.1", "RNN Time Iterator Forward", 10,
                ("test_time_iterator", "test_time_iterator_forward"),
                key="test_timeitr_forward", part="1.4"),
        Problem("1.4.2", "RNN Time Iterator Backward", 10,
                ("test_time_iterator", "test_time_iterator_backward"),
                key="test_timeitr_backward", part="1.4"),
        Problem("2.1.1", "GRU Unit Forward", 10, ("test_gru", "test_gru_unit_forward"),
                key="test_gru_unit_forward", part="2.1"),
        Problem("2.1.2", "GRU Unit Backward", 5, ("test_gru", "test_gru_unit_backward"),
                key="test_gru_unit_backward", part="2.1"),
        Problem("2.2", "GRU Time Iterator Forward", 5, ("test_gru", "test_gru_layer_forward"),
                key="test_gru_forward"),
    ],
    # the GRU is the time iterator (1.4) over the GRU unit (2.1)
    depends_on={"2.2": ("1.4.1", "2.1.1")},
    parts=PARTS,
    requires=("1",),
    sheet="docs/hw3p1.md",
    handin=["mytorch/**/*.py", "hw3/*.py"],
    guide=GUIDE,
)
