"""The grading engine that the local autograders share (``./grade.sh 1`` and ``./grade.sh 1b``).

A ``Grader`` names its problems (points, test functions), its dependency table
and its practice checks.  ``grade(grader)`` then:

1. runs each problem's tests in a child process of its own (autograder/sandbox.py),
   with a hard time limit, so a crash, an exit, a hang or a flood of prints
   costs that problem only; the child reports each test as it finishes, and
   which student functions (autograder/manifest.py) the test ran;
2. decides what counts: a whole-model test marked ``@builds_on("2.1")`` counts only
   when 2.1 passes, otherwise it is "not graded" and costs nothing;
3. explains: every failure with its message, "not implemented yet: <function>"
   for a stub, "2.4 fails inside your Mul: see 1.1.2" when a failing test ran a
   failing problem's code, "... uses X, which fails: fix it first" along the
   dependency table;
4. prints the practice checks (0 points) under their own heading, the score table,
   the total, and the Autolab JSON line, always last.
"""
import argparse
import importlib
import json
import os
import platform
import sys
import traceback
from collections import namedtuple
from pathlib import Path

from autograder import helpers, manifest, sandbox
from autograder.problems import closure

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_ENV = "AUTOGRADER_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
MAX_MESSAGE_LINES = 30
MAX_OUTPUT_LINES = 20

Grader = namedtuple("Grader", "title package problems depends_on practice key footer fixtures "
                               "requires", defaults=(None,))
Grader.__doc__ = """What a local autograder grades.

title        shown in the first line of the report
package      where its test modules live ("autograder.hw1_autograder")
problems     the Problem tuples (autograder/problems.py), in order
depends_on   the dependency table: {number: numbers whose student code its tests may run}
practice     (module, prefix) of the 0-point practice checks, or None
key          problem -> its name in the report and the JSON ("1.1.1 Subtraction")
footer       a line printed under the total of a full run, or None
fixtures     the folder of its expected values (.npz), read once before the children start
requires     another Grader whose problems this one builds on (the bonus: HW1), graded
             silently so that a failure inside one of them can be named; or None
"""


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #
class TestResult:
    """One test: ``status`` is pass, fail (a wrong value), todo (not implemented yet),
    error (an exception) or "not run"; ``verdict`` adds "not graded"."""

    def __init__(self, name, builds_on=()):
        self.name, self.builds_on = name, tuple(builds_on)
        self.status, self.lines, self.ran, self.verdict = "not run", [], [], None

    @property
    def counted_failure(self):
        return self.verdict != "not graded" and self.status != "pass"


class ProblemResult:
    """How one problem went: its tests, how its child ended, what it printed."""

    def __init__(self, problem):
        self.problem, self.tests, self.output, self.output_dropped = problem, [], "", 0
        self.problem_lines, self.notes, self.seconds, self.passed = [], [], 0.0, False

    @property
    def score(self):
        return self.problem.points if self.passed else 0

    @property
    def failures(self):
        return [t for t in self.tests if t.counted_failure]

    @property
    def not_graded(self):
        return [t for t in self.tests if t.verdict == "not graded"]


# --------------------------------------------------------------------------- #
# The child: run one problem's tests
# --------------------------------------------------------------------------- #
def use_root(root, package):
    """Import the student's code from ``root`` from now on (in a fresh child).

    Drops already-imported copies of mytorch, hw1 and the grader's modules that
    import mytorch (its test modules and probes), so the next import reads
    ``root``'s files.
    """
    root = os.path.abspath(str(root))
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    for name in list(sys.modules):
        if name.split(".")[0] in ("mytorch", "hw1") or name == "autograder.probes" \
                or (name.startswith(package + ".") and name != package + ".runner"):
            del sys.modules[name]


def _code_owners(root):
    """{(file, first line of the def): (problem, qualname)} for every student part.

    Keyed by position rather than by qualname so it works on every Python (a
    decorated function's code may start at its first decorator)."""
    index = {}
    for part in manifest.parts():
        path = os.path.join(os.path.abspath(str(root)), part.path)
        node = manifest.functions_in(path).get(part.qualname)
        if node is not None:
            lines = {node.lineno} | {d.lineno for d in node.decorator_list}
            for line in lines:
                index[(path, line)] = (part.problem, part.qualname)
    return index


class _Tracer:
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


def run_tests(report, root, package, module, prefix, preloaded=False):
    """Child process body: import ``package.module`` from ``root`` (unless the loader
    already did: ``preloaded``) and run its tests whose names start with ``prefix``,
    reporting each as it finishes.

    Tests without ``builds_on`` run first, so a whole-model test that hangs in
    another problem's code cannot keep this problem's own tests from running."""
    if not preloaded:
        use_root(root, package)
    root_files = _code_owners(root)
    tracer = _Tracer(root_files)
    try:
        tests_module = importlib.import_module("{}.{}".format(package, module))
    except BaseException as error:
        report({"event": "setup-error", "lines": describe(error, root_files)})
        return
    tests = [(name, value) for name, value in vars(tests_module).items()
             if name.startswith(prefix) and callable(value)]
    tests.sort(key=lambda item: (bool(getattr(item[1], "builds_on", ())),
                                 item[1].__code__.co_firstlineno))
    report({"event": "plan", "tests": [[name, list(getattr(test, "builds_on", ()))]
                                       for name, test in tests]})
    for name, test in tests:
        report({"event": "start", "test": name})
        status, lines = "pass", []
        try:
            with tracer:
                test()
        except sandbox.TimeLimitExceeded:
            report({"event": "test", "test": name, "status": "error", "ran": _ran(tracer),
                    "lines": []})             # the parent fills in the timeout's report
            return
        except BaseException as error:       # CheckFailure, any exception, exit(), ...
            status = _status(error)
            lines = describe(error, root_files)
        report({"event": "test", "test": name, "status": status, "lines": lines,
                "ran": _ran(tracer)})


def _ran(tracer):
    return sorted([problem, qualname] for problem, qualname in tracer.ran)


def _status(error):
    if isinstance(error, NotImplementedError):
        return "todo"
    return "fail" if isinstance(error, helpers.CheckFailure) else "error"


def describe(error, owners=None):
    """Message lines for an exception raised by a test or by the student's code under it."""
    if isinstance(error, helpers.CheckFailure):
        lines = str(error).splitlines() or ["check failed"]
        where = helpers.short_traceback(error, limit=1)
        return lines + (["  at " + where[0]] if where else [])
    if isinstance(error, NotImplementedError):
        return [not_implemented(error, owners)]
    if isinstance(error, SystemExit):
        lines = ["your code called exit({!r})".format(error.code)]
    else:
        text = "{}: {}".format(type(error).__name__, error)
        lines = text.splitlines() or [type(error).__name__]
    if isinstance(error, SyntaxError) and error.filename:
        lines.append("  {}:{}: {}".format(helpers.relative(error.filename), error.lineno,
                                          (error.text or "").strip()))
    return lines + ["  traceback (most recent call last):"] + \
        ["    " + line for line in helpers.short_traceback(error, limit=5)]


def not_implemented(error, owners=None):
    """ "not implemented yet: Sub.backward (Problem 1.1.1)" for a stub's NotImplementedError."""
    message = str(error)
    for kind in ("Problem ", "Bonus "):            # a practice-mode stub (manifest.stub_message)
        if message.startswith(kind):
            number, _, rest = message[len(kind):].partition(": implement ")
            if rest:
                return "not implemented yet: {} ({}{})".format(rest.split(" (")[0], kind,
                                                               number)
    name = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        code = frame.f_code
        owner = (owners or {}).get((code.co_filename, code.co_firstlineno))
        if owner is not None:
            name = "{} (Problem {})".format(owner[1], owner[0])
        elif name is None and "mytorch" in Path(code.co_filename).parts:
            name = code.co_name
    return "not implemented yet: {}{}".format(name or "a function",
                                              ": " + message if message else "")


# --------------------------------------------------------------------------- #
# The parent: run every problem, decide what counts, explain
# --------------------------------------------------------------------------- #
Job = namedtuple("Job", "package module prefix")


def run_jobs(root, jobs, timeout, capture=True):
    """Run each Job's tests in a child process of its own; [sandbox.Outcome] in order.

    Where fork exists, one loader process imports the student's code (and the test
    modules) once and forks every job's child from itself, so no child imports it
    again; elsewhere each child is a fresh interpreter."""
    jobs = [Job(*job) for job in jobs]
    if not sandbox.FORK:
        return [sandbox.run(run_tests, (str(root),) + tuple(job), timeout, capture)
                for job in jobs]
    overall = None if not timeout else len(jobs) * (timeout + sandbox.GRACE) + 30
    loader = sandbox.run(_loader, (str(root), jobs, timeout, capture), overall, capture)
    outcomes = [None] * len(jobs)
    failure = None
    for record in loader.records:
        if record.get("event") == "outcome":
            outcomes[record["index"]] = sandbox.Outcome.from_record(record)
        elif record.get("event") == "import-timeout":
            failure = record["lines"]
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            outcome = outcomes[index] = sandbox.Outcome()
            outcome.records = [{"event": "setup-error", "lines": failure or [
                "the grader's loader process ended before this problem ran: {}".format(
                    loader.ending or "no reason given")]}]
    return outcomes


def _loader(report, root, jobs, timeout, capture):
    """The loader process: import the student's code once (within ``timeout``), then run
    each job in a child forked from here, and report each child's Outcome."""
    for package in sorted({job.package for job in jobs}):
        use_root(root, package)
    _code_owners(root)
    with sandbox.alarm(timeout) as expired:
        try:
            for job in jobs:
                try:
                    importlib.import_module("{}.{}".format(job.package, job.module))
                except Exception:
                    pass                      # each child imports it again and reports why
        except sandbox.TimeLimitExceeded:
            pass
    if expired:
        report({"event": "import-timeout", "lines": [
            "importing your code took longer than {:g} s, the limit per problem (code at the "
            "top level of a module that loops?); it was running:".format(timeout)]
            + ["  " + line for line in expired]})
        return
    for index, job in enumerate(jobs):
        outcome = sandbox.run(run_tests, (root,) + tuple(job) + (True,), timeout, capture)
        report(dict(outcome.as_record(), event="outcome", index=index))


def result_from(problem, outcome):
    """The ProblemResult of ``problem`` from its child's Outcome."""
    result = ProblemResult(problem)
    tests, running, timed_out = {}, None, []
    for record in outcome.records:
        event = record.get("event")
        if event == "plan":
            tests = {name: TestResult(name, builds_on) for name, builds_on in record["tests"]}
        elif event == "start":
            running = tests.get(record["test"])
        elif event == "test" and record["test"] in tests:
            test = tests[record["test"]]
            test.status, test.lines = record["status"], record["lines"] or timed_out
            test.ran = [tuple(owner) for owner in record.get("ran", ())]
            running = None
        elif event == "timeout":
            timed_out = ["timed out after {:g} s, the limit per problem (an endless loop? set {} "
                         "or --timeout to change it); it was running:"
                         .format(record["seconds"], TIMEOUT_ENV)]
            timed_out += ["  " + (helpers.relative_frame(line) if not line.startswith(" ") else line)
                          for line in record["where"]]
        elif event in ("setup-error", "crash"):
            result.problem_lines = record["lines"]
    ending = timed_out + ([outcome.ending] if outcome.ending else [])
    stopped_by = None
    if running is not None:                     # the process ended inside this test
        running.status, running.lines = "error", ending or ["the test did not finish"]
        stopped_by = running.name
    elif outcome.ending and not result.problem_lines:
        result.problem_lines = ending
    for test in tests.values():
        if test.status == "not run":
            test.lines = ["not run: {} ended this problem's process".format(
                stopped_by or "an earlier test") if ending else "not run"]
    if not tests and not result.problem_lines:
        result.problem_lines = ["no tests found for {}".format(problem.number)]
    result.tests = list(tests.values())
    result.output, result.output_dropped = outcome.output, outcome.output_dropped
    result.seconds = outcome.seconds
    return result


def resolve(grader, results, known=None):
    """Decide which tests count and which problems pass, and write the notes.

    ``known``: {number: passed} of the problems of ``grader.requires``."""
    passed, names = dict(known or {}), {p.number: p for p in grader.problems}
    for result in results:
        for test in result.tests:
            blockers = [b for b in test.builds_on if passed.get(b) is False]
            if blockers:
                test.verdict = "not graded"
                test.lines = ["not graded: {}'s model test uses {}, which {}: fix {} first"
                              .format(result.problem.number, _labels(blockers, names),
                                      "fails" if len(blockers) == 1 else "fail",
                                      _and(blockers))]
        result.passed = bool(result.tests) and not result.problem_lines and not result.failures
        passed[result.problem.number] = result.passed
    for result in results:
        if not result.passed:
            result.notes = _notes(grader, result, passed, names)
    return passed


def _notes(grader, result, passed, names):
    """Where a failing problem's trouble comes from, when it is another problem's code."""
    number, inside = result.problem.number, {}
    for test in result.failures:
        for problem, qualname in test.ran:
            if problem != number and passed.get(problem) is False:
                inside.setdefault(problem, set()).add(manifest.display_name(qualname))
    notes = []
    for problem, functions in sorted(inside.items()):
        ops = [f for f in functions if not f.startswith("Tensor.__")]   # the operator is only the way in
        where = problem if problem in names else "{} of ./grade.sh {}".format(
            problem, "1" if grader.requires else "")
        notes.append("{} fails inside your {}: see {}".format(
            number, _and(sorted(ops or functions)), where.strip()))
    for problem in grader.depends_on.get(number, ()):
        if passed.get(problem) is False and problem not in inside:
            notes.append("{} uses {}, which fails: fix {} first".format(
                number, _labels([problem], names), problem))
    return notes


def _labels(numbers, names):
    return _and(["{} ({})".format(names[n].name, n) if n in names else n for n in numbers])


def _and(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


Run = namedtuple("Run", "results practice")
Run.__doc__ = """A grading run: [ProblemResult] of the selected problems, and the practice
checks' ProblemResult (None if they did not run)."""


def grade(grader, problems=None, timeout=None, stream=None, capture=True, root=ROOT,
          practice=None):
    """Grade and print the report to ``stream``; return a Run.

    ``problems`` selects some by number or name (the ones they build on are graded
    too, silently, to decide what counts).  Practice checks run on a full run
    unless ``practice=False``.
    """
    stream = sys.stdout if stream is None else stream
    chosen = select(grader, problems)
    limit = resolve_timeout(timeout)
    print("MyTorch local autograder, {} (Python {}, NumPy {})".format(
        grader.title, platform.python_version(), _numpy_version()), file=stream)
    stream.flush()
    helpers.load_fixtures(grader.fixtures)
    _code_owners(root)                    # parse the student's files once, before the forks
    needed = closure([p.number for p in chosen], grader.depends_on)
    needed |= {b for p in chosen for b in _builds_on_hint(grader, p)}
    graded = [p for p in grader.problems if p in chosen or p.number in needed]
    jobs = [(grader, p) for p in graded]
    if grader.requires is not None:            # graded silently, to name the cause of a failure
        helpers.load_fixtures(grader.requires.fixtures)
        jobs = [(grader.requires, p) for p in grader.requires.problems] + jobs
    full = len(chosen) == len(grader.problems)
    if grader.practice and (practice or (practice is None and full)):
        module, prefix = grader.practice
        jobs.append((grader, grader.problems[0]._replace(
            number="practice", name="Practice checks", points=0, module=module, prefix=prefix)))
    outcomes = run_jobs(root, [(g.package, p.module, p.prefix) for g, p in jobs], limit, capture)
    by_grader = {}
    for (owner, problem), outcome in zip(jobs, outcomes):
        by_grader.setdefault(owner.package, []).append(result_from(problem, outcome))
    results = [r for r in by_grader[grader.package] if r.problem.number != "practice"]
    known = None
    if grader.requires is not None:
        known = resolve(grader.requires, by_grader[grader.requires.package])
    resolve(grader, results, known)
    shown = [r for r in results if r.problem in chosen]
    for result in shown:
        print_problem(grader, result, stream)
    checks = None
    if jobs[-1][1].number == "practice":
        checks = result_from(jobs[-1][1], outcomes[-1])
        print_practice(checks, stream)
    print_summary(grader, shown, stream, full=full)
    stream.flush()
    return Run(shown, checks)


def _builds_on_hint(grader, problem):
    """Problems a selected problem's model tests may build on: every earlier one."""
    index = grader.problems.index(problem)
    return {p.number for p in grader.problems[:index]}


def run(grader, problems=None, timeout=None, stream=None, capture=True, root=ROOT):
    """Grade and report; return {key: score} in problem order."""
    return {grader.key(r.problem): r.score
            for r in grade(grader, problems, timeout, stream, capture, root).results}


def select(grader, problems=None):
    """The Problem tuples named by ``problems`` ("2.4", "2.4 BatchNorm", "BatchNorm"); None: all."""
    if not problems:
        return list(grader.problems)
    chosen = []
    for wanted in problems:
        text = str(wanted).strip()
        matches = [p for p in grader.problems if text in (p.number, grader.key(p), p.name)
                   or p.number.startswith(text + " ")]          # a part: "Dropout"
        if not matches:
            raise ValueError("unknown problem {!r}; choose from: {}".format(
                wanted, ", ".join(p.number for p in grader.problems)))
        chosen += [p for p in matches if p not in chosen]
    return sorted(chosen, key=grader.problems.index)


def resolve_timeout(timeout=None, default=DEFAULT_TIMEOUT):
    """``timeout`` if given, else $AUTOGRADER_TIMEOUT, else ``default`` (seconds; 0 = no
    limit); ValueError for anything but a number >= 0."""
    text = os.environ.get(TIMEOUT_ENV, "").strip() if timeout is None else str(timeout)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError("{}={!r} is not a number of seconds".format(TIMEOUT_ENV, text))
    return value


def _numpy_version():
    try:
        import numpy
        return numpy.__version__
    except ImportError:
        return "not installed"


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
def print_problem(grader, result, stream):
    """The FAIL block of a failing problem, or a NOTE for a passing one with tests not graded."""
    problem = result.problem
    if result.passed and not result.not_graded:
        return
    if result.passed:
        print("\nNOTE {} ({} points): passes; {} whole-model test(s) not graded".format(
            grader.key(problem), problem.points, len(result.not_graded)), file=stream)
    else:
        print("\nFAIL {} ({} points)".format(grader.key(problem), problem.points), file=stream)
    for line in _clip(result.problem_lines):
        print("    " + line, file=stream)
    for test in result.tests:
        if test.status == "pass" and test.verdict is None:
            continue
        print("  " + test.name, file=stream)
        for line in _clip(test.lines):
            print("    " + line, file=stream)
    for note in result.notes:
        print("  => " + note, file=stream)
    if not result.passed and result.output.strip():
        print("  your code printed:", file=stream)
        lines = result.output.rstrip().splitlines()
        for line in lines[:MAX_OUTPUT_LINES]:
            print("    | " + line[:200], file=stream)
        hidden = len(lines) - MAX_OUTPUT_LINES
        if hidden > 0 or result.output_dropped:
            print("    | ... ({} more lines{}; --show-output shows all)".format(
                max(hidden, 0), ", {} more characters".format(result.output_dropped)
                if result.output_dropped else ""), file=stream)


def _clip(lines):
    if len(lines) > MAX_MESSAGE_LINES:
        return lines[:MAX_MESSAGE_LINES] + ["... ({} more lines)".format(
            len(lines) - MAX_MESSAGE_LINES)]
    return lines


def print_practice(result, stream):
    """Practice checks: each failing check, then one line "Practice checks: K/N pass"."""
    print("\nPractice checks (0 points, not in the score: the library's other ops, and "
          "broadcasting in Sub, Mul and Div)", file=stream)
    for line in _clip(result.problem_lines):
        print("    " + line, file=stream)
    for test in result.tests:
        if test.status != "pass":
            print("  {}: {}".format(test.name[len("test_practice_"):], test.lines[0]
                                    if test.lines else test.status), file=stream)
            for line in _clip(test.lines[1:8]):
                print("      " + line, file=stream)
    passing = sum(t.status == "pass" for t in result.tests)
    print("Practice checks: {}/{} pass".format(passing, len(result.tests)), file=stream)


def print_summary(grader, results, stream, full=True):
    width = max([len(grader.key(r.problem)) for r in results] + [7])
    print("\n{:<{w}}  {:>6}  {}".format("Problem", "Score", "Result", w=width), file=stream)
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        if r.passed and r.not_graded:
            verdict += " (a model test not graded: see NOTE above)"
        print("{:<{w}}  {:>6}  {}".format(grader.key(r.problem),
                                          "{}/{}".format(r.score, r.problem.points), verdict,
                                          w=width), file=stream)
    total = sum(r.score for r in results)
    possible = sum(r.problem.points for r in results)
    print("Total score: {}/{}{}".format(total, possible, "" if full else " (selected problems)"),
          file=stream)
    if full and grader.footer:
        print(grader.footer, file=stream)
    print(json.dumps({"scores": {grader.key(r.problem): r.score for r in results}}), file=stream)


def print_crash(grader, error, stream):
    """The grader itself failed: say so, and still end with the JSON line (all zero)."""
    print("\nThe autograder could not finish: {}: {}".format(type(error).__name__, error),
          file=stream)
    print(json.dumps({"scores": {grader.key(p): 0 for p in grader.problems}}), file=stream)


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #
def main(grader, argv=None, description=None):
    """The command line of a local autograder; returns its exit status.

    0: every selected problem passed; 1: a problem failed or the grader could not
    finish; 2: bad arguments."""
    parser = argparse.ArgumentParser(
        description=description or "Score {}.".format(grader.title),
        epilog="Exit status: 0 if every problem passed, 1 otherwise.  Debug one problem "
               "with pdb: PROBLEM --show-output --timeout 0")
    parser.add_argument("problems", nargs="*", metavar="PROBLEM",
                        help="problems to grade (default: all): "
                             + " ".join(p.number for p in grader.problems))
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit per problem (default: ${} or {:g}; 0: none)"
                        .format(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    parser.add_argument("-s", "--show-output", action="store_true",
                        help="let your code's print()s (and pdb) use the terminal")
    args = parser.parse_args(argv)
    try:
        select(grader, args.problems)
        resolve_timeout(args.timeout)
    except ValueError as error:
        parser.error(str(error))
    try:
        results = grade(grader, args.problems or None, args.timeout,
                        capture=not args.show_output).results
    except BrokenPipeError:                   # `./grade.sh 1 | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        sys.stdout.flush()
        print_crash(grader, error, sys.stdout)
        return 1
    return 0 if all(r.passed for r in results) else 1
