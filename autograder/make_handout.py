#!/usr/bin/env python3
"""Practice mode: write a homework with the student's parts taken out.

    python3 autograder/make_handout.py DIR              # homework 1's starter
    python3 autograder/make_handout.py DIR --hw 2       # homework 2's (homework 1 done)
    python3 autograder/make_handout.py DIR --keep 2.4   # ... except 2.4 and what it needs

DIR gets a complete, runnable copy of the project (the library, the homework folders,
the autograders, data/, docs/, the scripts) in which every function that a spec
(autograder/*/spec.py) lists as a student part of homework N, its bonus included, has
its body replaced by

    raise NotImplementedError("Problem 1.1.1: implement Sub.backward (handout section 1.1.1)")

Earlier homeworks stay done: each homework builds on the library of the ones before.
Later homeworks are stubbed too, so nothing of theirs is given away and the student
goes on in the same folder when they get there.  Docstrings, signatures and
everything else stay as they are: the rewrite finds each function in the syntax tree
(``ast``) and replaces only the lines of its body, so comments and formatting elsewhere
survive.  A part whose first statements the handout gives as starting code keeps them
(``Part.keep``).  DIR also gets a README telling a student what to do next.  ``--keep``
leaves problems of homework N implemented, with the problems they need (the spec's
dependency table).
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

from autograder import specs  # noqa: E402  (needs ROOT on sys.path)

# The project's own tooling, which a student does not receive: its tests, benchmarks,
# CI, the scripts that regenerate fixtures and starters, and this README (the starter
# writes its own).  Everything else at the top of the project is copied.
NOT_COPIED = {"tests", "bench", "README.md", "handin.tar", "pyproject.toml"}
SKIPPED_FILES = {"make_fixtures.py", "make_handout.py", "cases.py"}


def stub_source(source, parts, path="<source>"):
    """``source`` with the bodies of ``parts`` ([(Part, message)] of this file) replaced by a
    NotImplementedError with that message; ValueError if a part is not in the file."""
    functions = specs.functions_of(ast.parse(source, path))
    lines = source.splitlines(keepends=True)
    edits = []
    for part, message in parts:
        node = functions.get(part.qualname)
        if node is None:
            raise ValueError("{}: no function {} to stub (a spec's parts are out of date)"
                             .format(path, part.qualname))
        if part.helper:                 # left out: from its decorators (or def) to its end,
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = node.end_lineno       # with the blank lines after it
            while end < len(lines) and not lines[end].strip():
                end += 1
            edits.append((first - 1, end, ""))
            continue
        body = node.body
        start = 1 if _is_docstring(body[0]) else 0
        start += part.keep
        if start >= len(body):
            raise ValueError("{}: {} has nothing left to stub after its first {} statement(s)"
                             .format(path, part.qualname, part.keep))
        first = body[start]
        indent = " " * first.col_offset
        stub = '{}raise NotImplementedError("{}")\n'.format(indent, message)
        edits.append((first.lineno - 1, node.end_lineno, stub))
    for begin, end, stub in sorted(edits, reverse=True):       # bottom up: positions hold
        lines[begin:end] = [stub]
    return "".join(lines)


def _is_docstring(statement):
    return isinstance(statement, ast.Expr) and isinstance(getattr(statement, "value", None),
                                                          ast.Constant) \
        and isinstance(statement.value.value, str)


def stub_tree(root, stubbed):
    """Stub, in place, the parts ``stubbed`` ([(spec, Part)]) in the files under ``root``."""
    by_file = {}
    for spec, part in stubbed:
        by_file.setdefault(part.path, []).append((part, spec.stub_message(part)))
    for relative, parts in by_file.items():
        path = Path(root) / relative
        path.write_text(stub_source(path.read_text(), parts, relative))


def stubbed_parts(homework=1, keep=()):
    """[(spec, Part)] a starter of ``homework`` stubs: every part of that homework and of
    later ones, except the parts of ``keep`` (part names of the homework's specs) and of
    the problems they depend on.  A kept part of a spec that requires others (the bonus
    builds on HW1) keeps the whole of those, since its tests run their code."""
    kept = set()
    for spec in specs.of_homework(homework):
        wanted = [p.number for p in spec.problems if p.part in keep or p.number in keep]
        kept |= {(spec.command, spec.problem(n).part) for n in spec.closure(wanted)}
        if wanted:
            kept |= {(needed.command, p.part) for needed in specs.requirements(spec)
                     for p in needed.problems}
    return [(spec, part) for spec, part in specs.all_parts()
            if spec.homework >= homework and (spec.command, part.problem) not in kept]


def keep_choices(homework):
    """What ``--keep`` accepts for ``homework``: its specs' part names."""
    names = []
    for spec in specs.of_homework(homework):
        names += [n for n in spec.part_names() if n not in names and spec.parts_of([n])]
    return names


def write_handout(destination, homework=1, keep=()):
    """Write homework ``homework``'s starter into ``destination`` (new, or an empty folder)."""
    destination = Path(destination)
    check_destination(destination)
    destination.mkdir(parents=True, exist_ok=True)
    top = sorted(ROOT.iterdir())
    left_out = _ignored(str(ROOT), [p.name for p in top])
    for source in top:
        name = source.name
        if name in NOT_COPIED or name in left_out or (name.startswith(".")
                                                      and name != ".gitignore"):
            continue
        if source.is_dir():
            shutil.copytree(str(source), str(destination / name), ignore=_ignored)
        elif source.is_file():
            shutil.copy2(str(source), str(destination / name))
    stub_tree(destination, stubbed_parts(homework, keep))
    (destination / "README.md").write_text(readme(homework, keep))
    return destination


def check_destination(destination):
    """Raise a ValueError (or FileExistsError) saying why ``destination`` cannot take a
    starter: it is inside this project (the copy would copy itself), a file, a folder that
    is not empty, or one that cannot be written."""
    target = destination.resolve()
    if target == ROOT or ROOT in target.parents:
        raise ValueError("{} is inside this project ({}): the starter would copy itself into "
                         "itself; choose a folder outside it, such as ../starter".format(
                             destination, ROOT))
    if target.exists() and not target.is_dir():
        raise ValueError("{} is a file: choose a new folder".format(destination))
    if target.is_dir() and any(target.iterdir()):
        raise FileExistsError("{} is not empty: choose a new folder (nothing there is "
                              "overwritten)".format(destination))
    existing = next(p for p in [target] + list(target.parents) if p.exists())
    if not existing.is_dir() or not os.access(str(existing), os.W_OK | os.X_OK):
        raise ValueError("cannot create {}: {} is not a folder you can write to".format(
            destination, existing))


def _ignored(directory, names):
    """What copytree leaves out: caches, the tooling scripts, and pictures a run made
    (plots in the homework folders); the problem sheets' figures in docs/ stay."""
    in_docs = Path(directory).resolve().relative_to(ROOT).parts[:1] == ("docs",)
    # (the top folder's own pictures, such as sandbox.py's worked_example.png, go too)
    return {n for n in names if n in ("__pycache__", ".ipynb_checkpoints") or n.endswith(".pyc")
            or n in SKIPPED_FILES or (n.endswith(".png") and not in_docs)}


def readme(homework=1, keep=()):
    """The starter's README: what a student does next, problem by problem."""
    main_specs = specs.of_homework(homework)
    stubbed = {(s.command, p.problem) for s, p in stubbed_parts(homework, keep)}
    sections = []
    for spec in main_specs:
        rows = []
        for name in spec.part_names():
            files = {}
            for part in spec.parts_of([name]):
                files.setdefault(part.path, []).append("`{}`".format(part.qualname))
            if not files:
                continue
            where = "; ".join("{}: {}".format(path, ", ".join(functions))
                              for path, functions in files.items())
            problems = spec.problems_of_part(name)
            label = " / ".join("{} {}".format(p.number, p.name) for p in problems) \
                if not spec.bonus else "{} ({})".format(name, ", ".join(p.key for p in problems))
            given = "" if (spec.command, name) in stubbed else " (given in this copy)"
            rows.append("| {} | {}{} |".format(label, where, given))
        points = sum(p.points for p in spec.graded_problems)
        sections.append(SECTION.format(
            title=spec.title, command=spec.command, points=points,
            first=_first_scored(spec),
            guide=(spec.guide.strip() + "\n\n") if spec.guide else "",
            table="\n".join(rows)))
    earlier = ("The homeworks before this one are done, as the course hands them out: each "
               "homework builds on the library of the ones before. " if homework > 1 else "")
    first_spec = main_specs[0]
    return TEMPLATE.format(homework=homework, earlier=earlier, sections="\n".join(sections),
                           example=first_spec.stub_message(first_spec.parts[0]),
                           command=first_spec.command, first=_first_scored(first_spec))


def _first_scored(spec):
    """How ./grade.sh names the spec's first problem worth points: its number, or its
    part when the number has a space ("Adam 1" is selected as "Adam")."""
    first = next(p for p in spec.graded_problems if p.points)
    return first.part if " " in first.number else first.number


TEMPLATE = """# MyTorch, homework {homework}: the starter (practice mode)

This is MyTorch with the parts you write for homework {homework} taken out: every one of
them raises `NotImplementedError("{example}")` until you write it. Everything else (the
Tensor basics, the given ops, the graph's node classes, Module, the autograders) is
given, as in the course's handout. {earlier}Later homeworks are stubbed too, so you can
go on in this folder when you get there.

## Set-up (once)

    python3 -m venv .venv && . .venv/bin/activate
    pip install -r requirements.txt

Run every command from this folder. `./grade.sh --help` lists the graders.

## What to do next

Implement the problems in order. After each one, grade it: a problem you have not
reached says `not implemented yet: <function>`; a problem that builds on an unfinished
one says which (`2.6 uses SGD (2.3), which fails: fix 2.3 first`). Each problem is
graded on its own code, so you can go in order.
{sections}
## While you work

- `from mytorch import gradcheck; gradcheck(lambda t: my_op(t), x)` compares your
  backward with finite differences and names the first element that differs.
- `from mytorch import viz; viz.show(loss)` prints the graph behind `loss`;
  `viz.draw(loss, "graph.png")` draws it.
- `with mytorch.detect_anomaly(): ...` names the op and the line where a NaN or an
  inf first appears.
- Debug one problem with pdb: put `import pdb; pdb.set_trace()` in your code and run
  `./grade.sh {command} {first} --show-output --timeout 0`.

## Comparing with the reference

The finished library is the repository this starter came from. Once a problem
passes, compare your file with the reference, for example:

    diff -u path/to/mytorch-repo/mytorch/nn/functional.py mytorch/nn/functional.py
"""

SECTION = """
### {title}: `./grade.sh {command}` ({points} points)

{guide}    ./grade.sh {command} {first}        # one problem (its report says what is still missing)
    ./grade.sh {command}              # all of them: a fresh starter scores 0

| Problem | What to write (file: functions) |
| --- | --- |
{table}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="where to write the starter (new or empty)")
    parser.add_argument("--hw", type=int, default=1, metavar="N",
                        help="the homework to practise (default: 1); earlier ones stay done")
    parser.add_argument("--keep", nargs="*", default=[], metavar="PROBLEM",
                        help="problems to leave implemented (with the problems they depend on)")
    args = parser.parse_args(argv)
    if args.hw not in specs.homeworks():
        parser.error("no homework {}; choose from: {}".format(
            args.hw, ", ".join(str(n) for n in specs.homeworks())))
    unknown = [k for k in args.keep if k not in keep_choices(args.hw)]
    if unknown:
        parser.error("--keep {}: not a part of homework {}; choose from: {}".format(
            " ".join(unknown), args.hw, ", ".join(keep_choices(args.hw))))
    try:
        destination = write_handout(args.directory, args.hw, args.keep)
    except (FileExistsError, ValueError) as error:
        print("make_handout.py: {}".format(error), file=sys.stderr)
        return 1
    except OSError as error:                      # the disk filled up, a permission, ...
        print("make_handout.py: could not write the starter to {}: {}".format(
            args.directory, error), file=sys.stderr)
        return 1
    print("Wrote the starter to {}: see {} for what to do next".format(
        destination, os.path.join(str(destination), "README.md")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
