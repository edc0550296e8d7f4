#!/usr/bin/env python3
"""Practice mode: write the homework with the student's parts taken out.

    python3 autograder/make_handout.py DIR             # the starter, every part stubbed
    python3 autograder/make_handout.py DIR --keep 2.4  # ... except 2.4 and what it needs

DIR gets a complete, runnable copy of the homework (mytorch/, hw1/, the
autograders, data/, the scripts) in which every function that
autograder/manifest.py lists for a problem has its body replaced by

    raise NotImplementedError("Problem 1.1.1: implement Sub.backward (handout section 1.1.1)")

Docstrings, signatures and everything else stay as they are: the rewrite finds
each function in the syntax tree (``ast``) and replaces only the lines of its
body, so comments and formatting elsewhere survive.  Functions whose first
statements the handout gives as starting code keep those (Function.apply keeps
"make the node, run forward"; unbroadcast keeps its equal-shape case, so the
given Add works before 2.1).  DIR also gets a README telling a student what to
do next.  ``--keep`` leaves problems implemented, with the problems they need
(autograder/problems.py's dependency table).
"""
import argparse
import ast
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import manifest  # noqa: E402
from autograder.problems import HW1_DEPENDS_ON, HW1_PROBLEMS, closure  # noqa: E402

# What a student receives: the handout's layout, without the repository's own tests,
# benchmarks and tooling.
COPIED = ["mytorch", "hw1", "autograder", "data", "grade.sh", "create_tarball.sh",
          "sandbox.py", "requirements.txt", ".gitignore"]
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.png", "make_fixtures.py",
                                 "make_handout.py", ".ipynb_checkpoints")
PROBLEMS = [p.number for p in HW1_PROBLEMS if p.points] + ["3"] + list(manifest.BONUS)


def stub_source(source, parts, path="<source>"):
    """``source`` with the bodies of ``parts`` (manifest Parts of this file) replaced by a
    NotImplementedError naming the part; ValueError if a part is not in the file."""
    functions = manifest.functions_of(ast.parse(source, path))
    lines = source.splitlines(keepends=True)
    edits = []
    for part in parts:
        node = functions.get(part.qualname)
        if node is None:
            raise ValueError("{}: no function {} to stub (autograder/manifest.py is out of date)"
                             .format(path, part.qualname))
        body = node.body
        start = 1 if _is_docstring(body[0]) else 0
        start += part.keep
        if start >= len(body):
            raise ValueError("{}: {} has nothing left to stub after its first {} statement(s)"
                             .format(path, part.qualname, part.keep))
        first = body[start]
        indent = " " * first.col_offset
        stub = '{}raise NotImplementedError("{}")\n'.format(indent, manifest.stub_message(part))
        edits.append((first.lineno - 1, node.end_lineno, stub))
    for begin, end, stub in sorted(edits, reverse=True):       # bottom up: positions hold
        lines[begin:end] = [stub]
    return "".join(lines)


def _is_docstring(statement):
    return isinstance(statement, ast.Expr) and isinstance(getattr(statement, "value", None),
                                                          ast.Constant) \
        and isinstance(statement.value.value, str)


def stub_tree(root, problems):
    """Stub, in place, the parts of ``problems`` in the files under ``root``."""
    by_file = {}
    for part in manifest.parts(set(problems)):
        by_file.setdefault(part.path, []).append(part)
    for relative, parts in by_file.items():
        path = Path(root) / relative
        path.write_text(stub_source(path.read_text(), parts, relative))


def stubbed_problems(keep=()):
    """Every problem with parts, except those in ``keep`` and what they depend on."""
    kept = closure(keep, HW1_DEPENDS_ON)
    return [p for p in PROBLEMS if p not in kept]


def write_handout(destination, keep=()):
    """Write the starter into ``destination`` (which must not exist or be empty)."""
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise FileExistsError("{} is not empty: choose a new folder (nothing there is "
                              "overwritten)".format(destination))
    destination.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(str(source), str(destination / name), ignore=SKIPPED)
        elif source.exists():
            shutil.copy2(str(source), str(destination / name))
    stub_tree(destination, stubbed_problems(keep))
    (destination / "README.md").write_text(readme(keep))
    return destination


def readme(keep=()):
    """The starter's README: what a student does next, problem by problem."""
    names = {p.number: "{} {}".format(p.number, p.name) for p in HW1_PROBLEMS}
    names.update({"3": "3 MNIST", "Adam": "Bonus: Adam", "Dropout": "Bonus: Dropout"})
    rows = []
    for problem in PROBLEMS:
        files = {}
        for part in manifest.parts({problem}):
            files.setdefault(part.path, []).append("`{}`".format(part.qualname))
        where = "; ".join("{}: {}".format(path, ", ".join(functions))
                          for path, functions in files.items())
        given = " (given in this copy)" if problem not in stubbed_problems(keep) else ""
        rows.append("| {} | {}{} |".format(names[problem], where, given))
    return TEMPLATE.format(table="\n".join(rows))


TEMPLATE = """# MyTorch, HW1 Part 1: the starter (practice mode)

This is CMU 11-785 (Fall 2020) Homework 1 Part 1 with the parts you write taken
out: every one of them raises `NotImplementedError("Problem 1.1.1: implement
Sub.backward (handout section 1.1.1)")` until you write it. Everything else (the
Tensor basics, Add, Transpose, Reshape, Log, the graph's node classes, Module,
CrossEntropyLoss, the autograders) is given, as in the handout. Follow the handout
section by section; the order below is the handout's.

## Set-up (once)

    python3 -m venv .venv && . .venv/bin/activate
    pip install -r requirements.txt

Run every command from this folder.

## What to do next

1. Read the handout through Appendix A, and run `python3 sandbox.py` once you have
   done 1.1 and 1.2: it rebuilds the handout's worked example and draws its graph.
2. Implement the problems in order. After each one, grade it:

       ./grade.sh 1 1.1.1          # one problem (its report says what is still missing)
       ./grade.sh 1                # all of 1.1-2.6: a fresh starter scores 0/100

   A problem you have not reached says `not implemented yet: <function>`; a problem
   that builds on an unfinished one says which (`2.6 uses SGD (2.3), which fails:
   fix 2.3 first`). Each problem is graded on its own code: a mistake in Mul costs
   1.1.2, not BatchNorm. The practice checks at the end (0 points) try the other
   ops and broadcasting in Sub, Mul and Div, which you need once you build
   BatchNorm or cross-entropy from Tensor ops.
3. Problem 3: write `hw1/mnist.py`, then `./grade.sh m` trains it and saves
   `hw1/validation_accuracy.png`. `./create_tarball.sh` packs `handin.tar`.
4. The bonus (Adam, Dropout): `./grade.sh 1b`.

| Problem | What to write (file: functions) |
| --- | --- |
{table}

Ops the handout leaves to you ("implement your OWN operations if you need them")
are listed with the first problem that needs them: you can build Linear as
`x @ W.T() + b` from MatMul, the given Transpose and a broadcasting Add, and
BatchNorm and cross-entropy from Tensor ops. The reference solution also has fused
Linear, BatchNorm and CrossEntropy Functions (one graph node each); they are
listed so you can write them too, but nothing requires them.

## While you work

- `from mytorch import gradcheck; gradcheck(lambda t: my_op(t), x)` compares your
  backward with finite differences and names the first element that differs.
- `from mytorch import viz; viz.show(loss)` prints the graph behind `loss`;
  `viz.draw(loss, "graph.png")` draws it.
- `with mytorch.detect_anomaly(): ...` names the op and the line where a NaN or an
  inf first appears.
- Debug one problem with pdb: put `import pdb; pdb.set_trace()` in your code and run
  `./grade.sh 1 2.4 --show-output --timeout 0`.

## Comparing with the reference

The finished library is the repository this starter came from. Once a problem
passes, compare your file with the reference, for example:

    diff -u path/to/mytorch-repo/mytorch/nn/functional.py mytorch/nn/functional.py
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="where to write the starter (new or empty)")
    parser.add_argument("--keep", nargs="*", default=[], metavar="PROBLEM",
                        choices=PROBLEMS, help="problems to leave implemented (with the "
                        "problems they depend on)")
    args = parser.parse_args(argv)
    try:
        destination = write_handout(args.directory, args.keep)
    except (FileExistsError, ValueError) as error:
        print("make_handout.py: {}".format(error), file=sys.stderr)
        return 1
    print("Wrote the starter to {}: see {} for what to do next".format(
        destination, os.path.join(str(destination), "README.md")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
