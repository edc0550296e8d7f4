"""What runs inside a problem's child process: import the student's code, run the tests.

``run_tests`` is the body of one child (autograder/isolation.py starts it): it imports
the problem's test module from the student's checkout, runs the test functions whose
names start with the problem's prefix, and reports each one as it finishes, with the
student functions it ran (so the parent can say "2.4 fails inside your Mul").  Every
record is a JSON-serializable dict passed to ``report``.
"""
import atexit
import importlib
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from autograder import helpers, isolation, specs

# The grader's own modules that never import the student's code: they stay loaded when
# a child switches to the student's checkout.  Any other autograder module (the test
# modules, probes.py, replay.py) imports mytorch and is imported afresh.
MACHINERY = {"specs", "isolation", "child", "loader", "grading", "report", "helpers", "cli",
             "spec", "runner", "__init__"}


def use_root(root, graded):
    """Import the student's code from ``root`` from now on (in a fresh child), and run it in
    a scratch folder.

    ``graded``: the specs whose tests will run.  Puts ``root`` (and each spec's extra
    import paths) first on sys.path, and drops already-imported copies of the student's
    modules and of the grader's modules that import them, so the next import reads
    ``root``'s files.  The working folder becomes a new temporary one, so that whatever
    the code does with relative paths (writes, deletes) cannot touch the checkout.
    Returns that folder (the caller removes it when the children are done).
    """
    root = os.path.abspath(str(root))
    wanted = [root] + [os.path.join(root, path) for spec in graded for path in spec.paths]
    for path in reversed(wanted):
        while path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
    sys.path.remove(root)
    sys.path.insert(0, root)
    student = set()
    for spec in specs.all_specs():
        student |= spec.student_modules()
    for name in list(sys.modules):
        top, _, rest = name.partition(".")
        if top in student or (top == "autograder" and rest
                              and name.rpartition(".")[2] not in MACHINERY):
            del sys.modules[name]
    scratch = tempfile.mkdtemp(prefix="mytorch-grading-")
    os.chdir(scratch)
    return scratch


class Owners(dict):
    """{(file, first line of the def): (command, part, qualname)} for every student part of
    every spec, and for each the lines the student wrote (``written``): its body after
    the docstring and the statements the handout gives (``Part.keep``).

    Keyed by position rather than by qualname so it works on every Python (a decorated
    function's code may start at its first decorator)."""

    def __init__(self):
        super().__init__()
        self.written = {}

    def student_line(self, code, line):
        """The owner of ``code`` if ``line`` is one the student wrote in it, else None."""
        key = (code.co_filename, code.co_firstlineno)
        owner = self.get(key)
        if owner is None:
            return None
        first, last = self.written[key]
        return owner if first <= line <= last else None


def code_owners(root):
    """The Owners of the student's parts in the checkout at ``root``."""
    index = Owners()
    for spec, part in specs.all_parts():
        path = os.path.join(os.path.abspath(str(root)), part.path)
        node = specs.functions_in(path).get(part.qualname)
        if node is None:
            continue
        body = node.body
        start = min(len(body) - 1, (1 if _is_docstring(body[0]) else 0) + part.keep)
        written = (body[start].lineno, node.end_lineno)
        for line in {node.lineno} | {d.lineno for d in node.decorator_list}:
            index[(path, line)] = (spec.command, part.problem, part.qualname)
            index.written[(path, line)] = written
    return index


def _is_docstring(statement):
    value = getattr(statement, "value", None)
    return type(statement).__name__ == "Expr" and isinstance(getattr(value, "value", None), str)


def culprit(error, owners):
    """The student part whose own lines raised ``error``: the innermost traceback frame on a
    line the student wrote (not the handout's given statements), or None."""
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        owner = owners.student_line(frame.f_code, line)
        if owner is not None:
            found = owner
    return found


class Tracer:
    """Records which student functions run (a profile hook: calls only, cheap)."""

    def __init__(self, owners):
        self.owners, self.ran = owners, set()

    def __call__(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            owner = self.owners.get((code.co_filename, code.co_firstlineno))
            if owner is not None:
                self.ran.add(owner)

    def __enter__(self):
        self.ran = set()
        sys.setprofile(self)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)


def run_tests(report, root, command, module, prefix, preloaded=False):
    """Child process body: import spec ``command``'s test ``module`` from ``root`` (unless
    the loader already did: ``preloaded``) and run its tests whose names start with
    ``prefix``, reporting each as it finishes.

    Tests without ``builds_on`` run first, so a whole-model test that hangs in another
    problem's code cannot keep this problem's own tests from running."""
    spec = specs.get(command)
    if not preloaded:                     # a fresh interpreter: its own scratch folder
        atexit.register(shutil.rmtree, use_root(root, [spec] + specs.requirements(spec)), True)
    owners = code_owners(root)
    tracer = Tracer(owners)
    try:
        tests_module = importlib.import_module("{}.{}".format(spec.package, module))
    except BaseException as error:
        report({"event": "setup-error", "lines": describe(error, owners)})
        return
    tests = [(name, value) for name, value in vars(tests_module).items()
             if name.startswith(prefix) and callable(value)]
    tests.sort(key=lambda item: (bool(getattr(item[1], "builds_on", ())),
                                 item[1].__code__.co_firstlineno))
    report({"event": "plan", "tests": [[name, list(getattr(test, "builds_on", ()))]
                                       for name, test in tests]})
    for name, test in tests:
        report({"event": "start", "test": name})
        status, lines, blamed = "pass", [], None
        checked = _checked_calls()
        checked.clear()
        try:
            with tracer:
                test()
        except isolation.TimeLimitExceeded:
            report({"event": "test", "test": name, "status": "error", "ran": _ran(tracer),
                    "lines": []})             # the parent fills in the timeout's report
            return
        except BaseException as error:       # CheckFailure, any exception, exit(), ...
            status = _status(error)
            lines = describe(error, owners)
            blamed = culprit(error, owners) if status == "error" else None
        report({"event": "test", "test": name, "status": status, "lines": lines,
                "ran": _ran(tracer), "culprit": list(blamed) if blamed else None,
                "checked": sorted(checked & {owner[2] for owner in tracer.ran})})


def _ran(tracer):
    return sorted(list(owner) for owner in tracer.ran)


def _checked_calls():
    """The set in which the grader's probes record the functions a test called directly
    and checked the values of (``probes.call_op``); a fresh set if none is loaded."""
    probes = sys.modules.get("autograder.probes")
    return getattr(probes, "CHECKED", set())


def is_todo_stub(error):
    """True for the course starter's ``raise Exception("TODO!")`` (and NotImplementedError)."""
    if isinstance(error, NotImplementedError):
        return True
    return type(error) is Exception and "todo" in str(error).lower()


def _status(error):
    if is_todo_stub(error):
        return "todo"
    return "fail" if isinstance(error, helpers.CheckFailure) else "error"


def describe(error, owners=None):
    """Message lines for an exception raised by a test or by the student's code under it."""
    if isinstance(error, helpers.CheckFailure):
        lines = str(error).splitlines() or ["check failed"]
        where = helpers.short_traceback(error, limit=1)
        return lines + (["  at " + where[0]] if where else [])
    if is_todo_stub(error):
        return [not_implemented(error, owners)]
    if isinstance(error, SystemExit):
        lines = ["your code called exit({!r})".format(error.code)]
    else:
        text = "{}: {}".format(type(error).__name__, error)
        lines = text.splitlines() or [type(error).__name__]
        lines += _given_api_hint(error)
    if isinstance(error, SyntaxError) and error.filename:
        lines.append("  {}:{}: {}".format(helpers.relative(error.filename), error.lineno,
                                          (error.text or "").strip()))
    return lines + ["  traceback (most recent call last):"] + \
        ["    " + line for line in helpers.short_traceback(error, limit=5)]


def _given_api_hint(error):
    """A TypeError or AttributeError raised on a line of the grader's own tests is the grader
    calling the handout's API (``y.T()``, ``x.grad_fn.next_functions``): say that given
    code may have changed, which the handout asks students not to do."""
    if not isinstance(error, (TypeError, AttributeError)):
        return []
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return []
    innermost = frames[-1]
    path = os.path.abspath(innermost.filename)
    if not path.startswith(str(specs.AUTOGRADER_DIR) + os.sep) or \
            os.path.basename(path) in ("child.py", "loader.py", "isolation.py"):
        return []
    return ["  (raised where the grader uses the handout's given API: {}:{} `{}`; if you "
            "changed given code, such as a method made a property or an attribute renamed, "
            "put the handout's version back)".format(helpers.relative(innermost.filename),
                                                     innermost.lineno,
                                                     (innermost.line or "").strip())]


def not_implemented(error, owners=None):
    """ "not implemented yet: Sub.backward (Problem 1.1.1)" for a stub's NotImplementedError."""
    message = str(error)
    for kind in ("Problem ", "Bonus "):            # a practice-mode stub (Homework.stub_message)
        if message.startswith(kind):
            label, _, rest = message[len(kind):].partition(": implement ")
            if rest:
                name, _, where = rest.partition(" (")
                see = "; " + where.rstrip(")") if where.startswith("see ") else ""
                return "not implemented yet: {} ({}{}{})".format(name, kind, label, see)
    name = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        code = frame.f_code
        owner = (owners or {}).get((code.co_filename, code.co_firstlineno))
        if owner is not None:
            command, part, qualname = owner
            name = "{} ({})".format(qualname, specs.get(command).label(part))
        elif name is None and "mytorch" in Path(code.co_filename).parts:
            name = code.co_name
    return "not implemented yet: {}{}".format(name or "a function",
                                              ": " + message if message else "")
