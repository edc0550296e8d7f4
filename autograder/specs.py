"""Homework specs: the one place that says what a homework is, for every tool that grades it.

Each grader folder (``autograder/hw1_autograder/``, ``autograder/hw1_bonus_autograder/``,
...) holds a ``spec.py`` that defines ``SPEC = Homework(...)``.  The spec says:

- ``command``: its ``./grade.sh`` subcommand ("1", "1b", "2"), and ``aliases``;
- ``homework``: the handout it belongs to (1, 2, 3): ``make_handout.py --hw N`` and
  ``./create_tarball.sh N`` take every spec of homework N, its bonus included;
- ``problems``: each Problem's number, name, Autolab key, points, and the test
  functions that grade it (a test module and a name prefix);
- ``depends_on``: the dependency table, {number: numbers whose student code the tests of
  that problem may run}; a mistake costs its own problem and those that depend on it;
- ``parts``: the functions the student writes (file, qualified name), each with the
  problem (or group of problems: ``Problem.part``) that grades it and the section of the
  problem sheet that explains it; practice mode stubs exactly these;
- ``practice``: the 0-point practice checks (a test module and a prefix), or None;
- ``fixtures``: the folder of expected values (.npz), relative to the spec's folder;
- ``handin``: the files its submission packs (glob patterns from the project root);
- ``requires``: other specs graded silently first, so that a failure inside their parts
  can be named ("fails inside your BatchNorm: see 2.4 of ./grade.sh 1");
- ``scripts``: other ``./grade.sh`` subcommands it owns: {"m": (a script in its folder,
  what it does)}.

The shared modules (grading, the child and loader processes, make_handout.py,
create_tarball.sh, grade.sh) read the specs and nothing else: adding a homework is
adding a folder with a spec.  This module imports neither NumPy nor mytorch, so the
shell scripts can ask it questions cheaply (``python3 -m autograder.specs --help``).
"""
import argparse
import ast
import glob
import importlib
import os
import sys
from collections import namedtuple
from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent
ROOT = AUTOGRADER_DIR.parent


class SpecError(ValueError):
    """A spec contradicts itself (a dependency on an unknown problem, a part graded by
    nothing, ...): the message names the spec and the entry."""


# --------------------------------------------------------------------------- #
# What a spec is made of
# --------------------------------------------------------------------------- #
class Problem(namedtuple("Problem", "number name points module prefix key part")):
    """One scored problem.

    ``tests`` is (test module, name prefix): the problem is graded by the functions of
    that module (in the spec's folder) whose names start with the prefix; None for a
    problem graded by hand (HW1's MNIST plot).  ``key`` is its Autolab name, the key in
    the JSON line (default "number name").  ``part`` groups problems that grade the same
    student code (default: the number): the bonus's "Adam 1" and "Adam 2" both grade the
    part "Adam".
    """

    def __new__(cls, number, name, points, tests=None, key=None, part=None):
        module, prefix = tests if tests is not None else (None, None)
        return super().__new__(cls, str(number), name, points, module, prefix,
                               key or "{} {}".format(number, name), part or str(number))

    @property
    def graded(self):
        """False for a problem graded by hand."""
        return self.module is not None


class Part(namedtuple("Part", "problem path qualname keep section helper")):
    """A function the student writes: ``qualname`` ("Sub.backward", "backward") in the file
    ``path`` (from the project root), graded by ``problem`` (a Problem's ``part``).

    ``keep``: how many of its first statements (after the docstring) are starting code
    the handout gives, which a practice-mode stub keeps.  ``section``: where the problem
    sheet explains it (default: the problem).  ``helper``: a helper of the reference
    solution that the handout does not ask for (the engine's ``_topological_order``): a
    starter leaves it out altogether, so the student writes the problem their own way
    and nothing ungraded is left to implement."""

    def __new__(cls, problem, path, qualname, keep=0, section=None, helper=False):
        return super().__new__(cls, str(problem), path, qualname, keep,
                               section or str(problem), helper)


Practice = namedtuple("Practice", "module prefix about")
Practice.__doc__ = """The 0-point practice checks: the test functions of ``module`` whose names
start with ``prefix``; ``about`` says what they try, for the report's heading."""


class Homework:
    """One grader's spec; see the module docstring for the fields.

    ``title`` heads the report; ``footer`` is printed under the total of a full run;
    ``sheet`` is the problem sheet a stub and a message point to (None: the handout);
    ``bonus`` marks a bonus spec (its stubs say "Bonus"); ``paths`` are folders, from the
    project root, that the student's modules are imported from besides the root itself
    (``hw2`` for ``from hw2 import CNN``); ``guide`` is the paragraph of the practice-mode
    starter's README that says how to go about the homework (markdown); ``bare_numbers``
    lets messages name its problems by number alone ("Problem 2.4", the handout's own
    numbering) where other specs' say "Problem 1.1 of ./grade.sh 3".  ``folder`` and
    ``package`` are filled in when the spec is loaded from its folder.
    """

    def __init__(self, command, title, homework, problems, depends_on=None, parts=(),
                 practice=None, fixtures="fixtures", handin=(), handin_notes=None,
                 aliases=(), requires=(), bonus=False, footer=None, sheet=None,
                 scripts=None, paths=(), guide=None, bare_numbers=False):
        self.command, self.title, self.homework = str(command), title, int(homework)
        self.problems = tuple(problems)
        self.depends_on = {p.number: () for p in self.problems}
        self.depends_on.update({str(k): tuple(v) for k, v in (depends_on or {}).items()})
        self.parts = tuple(parts)
        self.practice = practice
        self.fixtures_name = fixtures
        self.handin = tuple(handin)
        self.handin_notes = dict(handin_notes or {})
        self.aliases = tuple(str(a) for a in aliases)
        self.requires = tuple(str(r) for r in requires)
        self.bonus, self.footer, self.sheet = bonus, footer, sheet
        self.scripts = dict(scripts or {})
        self.paths = tuple(paths)
        self.guide = guide
        self.bare_numbers = bare_numbers
        self.folder = None
        self.package = None

    def __repr__(self):
        return "<Homework {} ({})>".format(self.command, self.title)

    # -- what the tools ask ------------------------------------------------- #
    @property
    def graded_problems(self):
        """The problems the grader runs (all but those graded by hand), in order."""
        return tuple(p for p in self.problems if p.graded)

    @property
    def fixtures(self):
        return None if self.folder is None else self.folder / self.fixtures_name

    def problem(self, number):
        return next(p for p in self.problems if p.number == number)

    def problems_of_part(self, part):
        """The problems that grade the student part ``part``, in order."""
        return [p for p in self.problems if p.part == part]

    def part_names(self):
        """The part names of this spec's problems, in order, once each."""
        names = []
        for problem in self.problems:
            if problem.part not in names:
                names.append(problem.part)
        return names

    def parts_of(self, part_names=None):
        """The Parts graded by ``part_names`` (all if None), in spec order."""
        return [p for p in self.parts if part_names is None or p.problem in part_names]

    def closure(self, numbers):
        """``numbers`` and every problem they depend on, directly or not."""
        return closure(numbers, self.depends_on)

    def label(self, part_name):
        """How messages name a part: "Problem 2.4" (a spec with ``bare_numbers``),
        "Problem 1.1 of ./grade.sh 3", "Bonus Adam"."""
        if self.bonus:
            return "Bonus {}".format(part_name)
        if self.bare_numbers:
            return "Problem {}".format(part_name)
        return "Problem {} of ./grade.sh {}".format(part_name, self.command)

    def stub_message(self, part):
        """The NotImplementedError message of ``part``'s practice-mode stub."""
        if self.sheet is not None:
            where = "see {}".format(self.section_link(part.section))
        elif self.bonus:
            where = "./grade.sh {} grades it".format(self.command)
        else:
            where = "handout section {}".format(part.section)
        return "{}: implement {} ({})".format(self.label(part.problem), part.qualname, where)

    def section_link(self, section):
        """Where the problem sheet explains ``section``: "docs/hw1p1.md#batchnorm"."""
        return "{}#{}".format(self.sheet, section)

    def sheet_link(self, problem):
        """The problem sheet's section for ``problem`` (its first part's), or None."""
        if self.sheet is None:
            return None
        part = next((p for p in self.parts if p.problem == problem.part), None)
        return None if part is None else self.section_link(part.section)

    def student_modules(self):
        """Top-level module names of the student's code: the folders its parts live in and
        the modules of its extra import paths (dropped before the student's code is
        imported, so that the grader reads the student's files)."""
        names = {Path(p.path).parts[0] for p in self.parts}
        names.update(Path(p).parts[0] for p in self.handin if not glob.has_magic(
            Path(p).parts[0]))
        for folder in self.paths:
            names.update(Path(f).stem for f in glob.glob(str(ROOT / folder / "*.py")))
        return {n[:-3] if n.endswith(".py") else n for n in names}

    # -- checks -------------------------------------------------------------- #
    def validate(self):
        """Raise SpecError if the spec contradicts itself."""
        def fail(message):
            raise SpecError("spec {} ({}): {}".format(self.command, self.folder, message))

        numbers = [p.number for p in self.problems]
        if len(set(numbers)) != len(numbers):
            fail("two problems share a number")
        keys = [p.key for p in self.graded_problems]
        if len(set(keys)) != len(keys):
            fail("two problems share an Autolab key")
        for number, needed in self.depends_on.items():
            if number not in numbers:
                fail("the dependency table names an unknown problem {!r}".format(number))
            for other in needed:
                if other not in numbers:
                    fail("{} depends on an unknown problem {!r}".format(number, other))
        names = set(self.part_names())
        for part in self.parts:
            if part.problem not in names:
                fail("part {} ({}) names {!r}, which is no problem's part".format(
                    part.qualname, part.path, part.problem))
        owned = [(p.path, p.qualname) for p in self.parts]
        if len(set(owned)) != len(owned):
            fail("a function is listed twice among the student's parts")
        for problem in self.graded_problems:
            if not (self.folder / (problem.module + ".py")).exists():
                fail("problem {} is graded by {}.py, which is not in the folder".format(
                    problem.number, problem.module))
        if self.practice is not None and not (self.folder / (self.practice.module + ".py")).exists():
            fail("the practice checks' module {}.py is not in the folder".format(
                self.practice.module))
        for script, _ in self.scripts.values():
            if not (self.folder / script).exists():
                fail("its script {} is not in the folder".format(script))


def closure(numbers, depends_on):
    """``numbers`` and every problem they depend on, directly or not."""
    seen, todo = set(), list(numbers)
    while todo:
        number = todo.pop()
        if number not in seen:
            seen.add(number)
            todo.extend(depends_on.get(number, ()))
    return seen


# --------------------------------------------------------------------------- #
# Finding the specs
# --------------------------------------------------------------------------- #
_SPECS = []


def all_specs():
    """Every spec under autograder/, ordered by homework, then the main spec before its
    bonus.  Each is validated; a SpecError names the first contradiction found."""
    if _SPECS:
        return _SPECS
    found = []
    for spec_file in sorted(AUTOGRADER_DIR.glob("*/spec.py")):
        folder = spec_file.parent
        module = importlib.import_module("autograder.{}.spec".format(folder.name))
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, Homework):
            raise SpecError("{} defines no SPEC = Homework(...)".format(spec_file))
        spec.folder, spec.package = folder, "autograder." + folder.name
        spec.validate()
        found.append(spec)
    found.sort(key=lambda s: (s.homework, s.bonus, s.command))
    commands = [c for s in found for c in (s.command,) + s.aliases + tuple(s.scripts)]
    duplicates = sorted({c for c in commands if commands.count(c) > 1})
    if duplicates:
        raise SpecError("two specs claim ./grade.sh {}".format(", ".join(duplicates)))
    known = {s.command for s in found}
    for spec in found:
        for needed in spec.requires:
            if needed not in known:
                raise SpecError("spec {} requires an unknown spec {!r}".format(spec.command,
                                                                                 needed))
    owners = {}
    for spec in found:
        for part in spec.parts:
            other = owners.setdefault((part.path, part.qualname), spec.command)
            if other != spec.command:
                raise SpecError("{} in {} is a part of both ./grade.sh {} and {}".format(
                    part.qualname, part.path, other, spec.command))
    _SPECS.extend(found)
    return _SPECS


def get(command):
    """The spec that ``./grade.sh command`` grades (its command or an alias); KeyError with
    the known commands otherwise."""
    for spec in all_specs():
        if command == spec.command or command in spec.aliases:
            return spec
    raise KeyError("unknown grader {!r}; choose from: {}".format(
        command, ", ".join(s.command for s in all_specs())))


def of_homework(number):
    """The specs of homework ``number`` (its main spec and its bonus)."""
    return [s for s in all_specs() if s.homework == int(number)]


def homeworks():
    """The homework numbers that have specs, in order."""
    return sorted({s.homework for s in all_specs()})


def requirements(spec):
    """The specs ``spec`` requires, directly or not, each once, before the ones needing it."""
    order, seen = [], set()

    def visit(command):
        if command in seen:
            return
        seen.add(command)
        needed = get(command)
        for other in needed.requires:
            visit(other)
        order.append(needed)

    for command in spec.requires:
        visit(command)
    return order


def all_parts():
    """(spec, Part) for every student part of every spec."""
    return [(spec, part) for spec in all_specs() for part in spec.parts]


# --------------------------------------------------------------------------- #
# Reading the student's files (for the owner index and practice mode)
# --------------------------------------------------------------------------- #
_PARSED = {}


def functions_in(path):
    """{qualname: ast node} of the functions and methods defined in the file at ``path``
    ({} if it is missing or does not parse)."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    if _PARSED.get(path, (None,))[0] != stamp:
        try:
            with open(path, encoding="utf-8") as source:
                tree = ast.parse(source.read(), path)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            return {}
        _PARSED[path] = (stamp, functions_of(tree))
    return _PARSED[path][1]


def functions_of(tree):
    """{qualname: ast node} of the functions and methods in a parsed module."""
    found, todo = {}, [("", node) for node in tree.body]
    while todo:
        prefix, node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[prefix + node.name] = node
        elif isinstance(node, ast.ClassDef):
            todo.extend((prefix + node.name + ".", child) for child in node.body)
    return found


def display_name(qualname):
    """How a report names a part: the op for a Function's forward/backward ("Mul")."""
    owner, _, method = qualname.rpartition(".")
    return owner if owner and method in ("forward", "backward") and owner != "Tensor" else qualname


# --------------------------------------------------------------------------- #
# Questions from the shell scripts
# --------------------------------------------------------------------------- #
def handin_files(number, root=ROOT):
    """(packed, left out, warnings) for homework ``number``'s submission in ``root``: the
    files its specs' ``handin`` patterns match, the other files in the folders those
    patterns search, and a sentence for each noted file that is missing."""
    root = Path(root)
    packed, folders, warnings = set(), set(), []
    for spec in of_homework(number):
        for pattern in spec.handin:
            matches = [Path(m) for m in glob.glob(str(root / pattern), recursive=True)]
            packed.update(str(m.relative_to(root)) for m in matches
                          if m.is_file() and not _hidden(m.relative_to(root)))
            top = Path(pattern).parts[0]
            if not glob.has_magic(top) and len(Path(pattern).parts) > 1:
                folders.add(top)
        for name, note in spec.handin_notes.items():
            if not (root / name).is_file():
                stray = Path(name).name
                hint = (" (found ./{}: move it to {}/)".format(stray, Path(name).parent)
                        if (root / stray).is_file() and Path(name).parent != Path(".") else "")
                warnings.append("{} is missing: {}{}".format(name, note, hint))
    left_out = set()
    for folder in folders:
        for directory, subfolders, files in os.walk(str(root / folder)):
            subfolders[:] = [d for d in subfolders if d != "__pycache__"]
            for name in files:
                relative = str(Path(directory, name).relative_to(root))
                if relative not in packed and not name.endswith(".pyc"):
                    left_out.add(relative)
    return sorted(packed), sorted(left_out), warnings


def _hidden(relative):
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Answer the shell scripts' questions about the homework specs.")
    sub = parser.add_subparsers(dest="question", required=True)
    sub.add_parser("commands", help="each ./grade.sh subcommand, a line each: COMMAND KIND "
                   "TARGET (grader: the spec; script: the file to run) and its description")
    handin = sub.add_parser("handin", help="the files homework N packs")
    handin.add_argument("number", help="the homework (1, 2, 3)")
    handin.add_argument("--root", default=str(ROOT))
    handin.add_argument("what", choices=["packed", "left-out", "warnings"])
    args = parser.parse_args(argv)
    try:
        if args.question == "commands":
            for spec in all_specs():
                print("{}\tgrader\t{}\t{}".format(spec.command, spec.command, spec.title))
                for alias in spec.aliases:
                    print("{}\tgrader\t{}\t{} ({})".format(alias, spec.command, spec.title,
                                                          "same as " + spec.command))
                for command, (script, about) in spec.scripts.items():
                    print("{}\tscript\t{}\t{}".format(
                        command, (spec.folder / script).relative_to(ROOT), about))
        else:
            if not args.number.isdigit() or int(args.number) not in homeworks():
                print("unknown homework {!r}; choose from: {}".format(
                    args.number, ", ".join(str(n) for n in homeworks())), file=sys.stderr)
                return 2
            packed, left_out, warnings = handin_files(args.number, args.root)
            for line in {"packed": packed, "left-out": left_out, "warnings": warnings}[args.what]:
                print(line)
    except SpecError as error:
        print("autograder/specs.py: {}".format(error), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # Run as a script, this file is __main__: answer through the importable module, whose
    # Homework class the specs' SPEC objects are instances of.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from autograder import specs
    sys.exit(specs.main())
