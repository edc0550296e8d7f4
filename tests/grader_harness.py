"""Grading scratch copies of the library: shared by the grader's mutation and sandbox tests.

A ``Mistake`` is a typical student mistake written as text edits of the reference
source.  ``grade_copies`` applies each to a scratch copy of the student's folders,
grades the copy with the real runner (each problem in its own child process),
and returns what failed.  Copies are graded two at a time (the machine has two
cores), each in a forked worker, so the catalogue stays within the test budget.
"""
import io
import multiprocessing
import shutil
import tempfile
from collections import namedtuple
from pathlib import Path

from autograder import specs

ROOT = Path(__file__).resolve().parents[1]

Edit = namedtuple("Edit", "path old new count", defaults=(1,))
Graded = namedtuple("Graded", "failing practice_failing report scores")


class Mistake(namedtuple("Mistake", "name problem edits costs practice words")):
    """``problem``: where the mistake lives; ``costs``: the problems it must fail;
    ``practice``: the practice checks it must fail (None: not checked); ``words``:
    text the report must contain."""

    def __new__(cls, name, problem, edits, costs, practice=None, words=""):
        return super().__new__(cls, name, problem, tuple(edits), frozenset(costs),
                               None if practice is None else frozenset(practice), words)


def student_folders():
    """The top-level folders of the student's code, from every spec (mytorch, hw1, ...)."""
    return sorted({name for spec in specs.all_specs() for name in spec.student_modules()
                   if (ROOT / name).is_dir()})


def make_copy(edits, directory):
    """A scratch copy of the student's folders (mytorch/, hw1/, ...) under ``directory``
    with ``edits`` applied."""
    root = Path(directory)
    for name in student_folders():
        shutil.copytree(str(ROOT / name), str(root / name),
                        ignore=shutil.ignore_patterns("__pycache__", "*.png"))
    for edit in edits:
        path = root / edit.path
        text = path.read_text()
        found = text.count(edit.old)
        if found != edit.count:
            raise AssertionError("{}: expected {} occurrence(s) of {!r}, found {}: update the "
                                 "mistake to the current source".format(
                                     edit.path, edit.count, edit.old, found))
        path.write_text(text.replace(edit.old, edit.new))
    return root


def grade_copy(edits, grader="1", timeout=None, stub=()):
    """Grade a scratch copy with ``edits``, with the parts ``stub`` ([(spec, Part)]) stubbed
    out as in practice mode, by the grader ``grader`` (a ./grade.sh command); a Graded
    tuple (picklable)."""
    from autograder import grading
    spec = specs.get(grader)
    with tempfile.TemporaryDirectory() as directory:
        root = make_copy(edits, directory)
        if stub:
            from autograder.make_handout import stub_tree
            stub_tree(root, stub)
        stream = io.StringIO()
        run = grading.grade(spec, root=root, stream=stream, timeout=timeout)
    failing = frozenset(r.problem.number for r in run.results if not r.passed)
    prefix = spec.practice.prefix if spec.practice else ""
    practice = frozenset() if run.practice is None else frozenset(
        t.name[len(prefix):] for t in run.practice.tests if t.status != "pass")
    return Graded(failing, practice, stream.getvalue(),
                  {r.problem.key: r.score for r in run.results})


def _grade_job(job):
    name, edits, grader, *stub = job
    parts = [(spec, part) for command, part_name in (stub[0] if stub else ())
             for spec in [specs.get(command)] for part in spec.parts
             if part.problem == part_name]
    return name, grade_copy(edits, grader, stub=parts)


def stub_keys(parts):
    """[(command, part name)] for [(spec, Part)]: what a job names the parts to stub by."""
    return sorted({(spec.command, part.problem) for spec, part in parts})


def grade_copies(jobs, workers=2):
    """{name: Graded} for [(name, edits, grader[, [(command, part name) to stub]])], graded
    ``workers`` at a time."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        context = None
    if context is None or workers < 2 or len(jobs) < 2:
        return dict(_grade_job(job) for job in jobs)
    with context.Pool(workers) as pool:
        return dict(pool.imap_unordered(_grade_job, jobs))
