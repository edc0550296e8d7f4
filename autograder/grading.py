"""The grader's parent process: run every problem in its own child, decide what counts, explain.

``grade(spec)`` grades one homework spec (autograder/specs.py):

1. runs each problem's tests in a child process of its own (autograder/loader.py and
   autograder/child.py, isolated by autograder/isolation.py), with a hard time limit, so
   a crash, an exit, a hang or a flood of prints costs that problem only; the child
   reports each test as it finishes, and which student functions the test ran;
2. decides what counts: a whole-model test marked ``@builds_on("2.1")`` counts only
   when 2.1 passes, otherwise it is "not graded" and costs nothing (but a problem
   whose tests are all "not graded" scores nothing: it has shown nothing);
3. explains: every failure with its message, "not implemented yet: <function>" for a
   stub, "2.4 fails inside your Mul: see 1.1.2" when a failing test ran a failing
   problem's code, "... uses X, which fails: fix it first" along the dependency table;
4. prints (autograder/report.py) the practice checks under their own heading, the
   score table, the total, and the Autolab JSON line, always last.
"""
import math
import os
import sys
from collections import namedtuple
from pathlib import Path

from autograder import helpers, loader, report, specs

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_ENV = "AUTOGRADER_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
PRACTICE = "practice"          # the "problem" that selects the practice checks alone


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #
class TestResult:
    """One test: ``status`` is pass, fail (a wrong value), todo (not implemented yet),
    error (an exception) or "not run"; ``verdict`` adds "not graded"."""

    def __init__(self, name, builds_on=()):
        self.name, self.builds_on = name, tuple(builds_on)
        self.status, self.lines, self.ran, self.verdict = "not run", [], [], None
        self.culprit, self.checked = None, ()

    @property
    def counted_failure(self):
        return self.verdict != "not graded" and self.status != "pass"


class ProblemResult:
    """How one problem went: its tests, how its child ended, what it printed."""

    def __init__(self, problem, command=None):
        self.problem, self.tests, self.output, self.output_dropped = problem, [], "", 0
        self.command = command                  # the spec's, set when it is resolved
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
            test.culprit = tuple(record["culprit"]) if record.get("culprit") else None
            test.checked = tuple(record.get("checked", ()))
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


# --------------------------------------------------------------------------- #
# What counts, and why a problem fails
# --------------------------------------------------------------------------- #
def resolve(spec, results, earlier=()):
    """Decide which tests count and which problems pass, and write the notes.

    ``earlier``: the ProblemResults of the specs ``spec`` requires, already resolved
    (a note may name a failing function of theirs)."""
    results_by_key = {(r.command, r.problem.number): r for r in earlier}
    passed = {key: r.passed for key, r in results_by_key.items()}
    for result in results:
        result.command = spec.command
    for result in results:
        for test in result.tests:
            blockers = [b for b in test.builds_on if passed.get((spec.command, b)) is False]
            if blockers:
                test.verdict = "not graded"
                test.lines = ["not graded: {}'s model test uses {}, which {}: fix {} first"
                              .format(result.problem.number, _labels(spec, blockers),
                                      "fails" if len(blockers) == 1 else "fail",
                                      _and(blockers))]
        # a problem whose every test builds on a failing one has shown nothing: no points
        result.passed = bool(result.tests) and not result.problem_lines \
            and not result.failures and len(result.not_graded) < len(result.tests)
        passed[(spec.command, result.problem.number)] = result.passed
    results_by_key.update({(spec.command, r.problem.number): r for r in results})
    blame = {r.problem.number: _evidence(spec, r, passed, results_by_key)
             for r in results if not r.passed}
    mutual = [(number, key) for number, found in blame.items() for key in found
              if key[0] == spec.command and any(   # two problems blaming each other: neither
                  (spec.command, spec.problem(number).part) in blame.get(other, {})   # is
                  for other in _failing_problems(key[0], key[1], passed))]         # evidence
    for number, key in mutual:
        del blame[number][key]
    for result in results:
        if not result.passed:
            result.notes = _notes(spec, result, passed, blame[result.problem.number])


def _failing_problems(command, part, passed):
    """The problems of spec ``command`` that grade ``part`` and fail, in order."""
    return [p.number for p in specs.get(command).problems_of_part(part)
            if passed.get((command, p.number)) is False]


def _fails_on(results_by_key, command, part, qualname, passed):
    """True if a failing problem that grades ``part`` failed a test that called ``qualname``
    directly and checked the values it returned (``probes.call_op``)."""
    for number in _failing_problems(command, part, passed):
        result = results_by_key.get((command, number))
        if result is not None and any(qualname in t.checked for t in result.failures):
            return True
    return False


def _evidence(spec, result, passed, results_by_key):
    """{(command, part): {function}} of other problems' code that the evidence says made
    ``result`` fail: the innermost line the student wrote in the exception's traceback is
    in that function (the test raised there), or the test's values went through a
    function whose own problem fails a direct check of it ("2.4 fails inside your Mul")."""
    own, found = (spec.command, result.problem.part), {}
    for test in result.failures:
        if test.culprit is not None:
            command, part, qualname = test.culprit
            if (command, part) != own and _failing_problems(command, part, passed):
                found.setdefault((command, part), set()).add(qualname)
            continue
        if test.status != "fail":             # an exception outside other problems' code
            continue
        for command, part, qualname in test.ran:
            if (command, part) != own and _fails_on(results_by_key, command, part, qualname,
                                                    passed):
                found.setdefault((command, part), set()).add(qualname)
    return found


def _notes(spec, result, passed, blamed):
    """Where a failing problem's trouble comes from, when the evidence (``blamed``: see
    ``_evidence``) points at another problem's code; else which problems it builds on fail,
    so the student knows what to fix first."""
    number, notes, named = result.problem.number, [], set()
    for (command, part), functions in sorted(blamed.items()):
        failing = _failing_problems(command, part, passed)
        where = failing[0] if command == spec.command else "{} of ./grade.sh {}".format(
            failing[0], command)
        if command == spec.command:
            named.update(failing)
        names = {specs.display_name(q) for q in functions}
        ops = [f for f in names if not f.startswith("Tensor.__")]   # the operator is only the way in
        notes.append("{} fails inside your {}: see {}".format(
            number, _and(sorted(ops or names)), where))
    for problem in spec.depends_on.get(number, ()):
        if passed.get((spec.command, problem)) is False and problem not in named:
            notes.append("{} uses {}, which fails: fix {} first".format(
                number, _labels(spec, [problem]), problem))
    return notes


def _labels(spec, numbers):
    names = {p.number: p.name for p in spec.problems}
    return _and(["{} ({})".format(names[n], n) if n in names else n for n in numbers])


def _and(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- #
# A grading run
# --------------------------------------------------------------------------- #
Run = namedtuple("Run", "results practice")
Run.__doc__ = """A grading run: [ProblemResult] of the selected problems, and the practice
checks' ProblemResult (None if they did not run)."""


def grade(spec, problems=None, timeout=None, stream=None, capture=True, root=ROOT,
          practice=None):
    """Grade spec ``spec`` and print the report to ``stream``; return a Run.

    ``problems`` selects some by number, Autolab key, name or part (the ones they build
    on are graded too, silently, to decide what counts); ``["practice"]`` selects the
    practice checks alone.  Practice checks run on a full run unless ``practice=False``.
    """
    stream = sys.stdout if stream is None else stream
    practice_only = bool(problems) and [str(p).strip() for p in problems] == [PRACTICE]
    chosen = [] if practice_only else select(spec, problems)
    limit = resolve_timeout(timeout)
    report.heading(spec, stream)
    required = specs.requirements(spec)
    for needed in required + [spec]:
        if needed.fixtures is not None and needed.fixtures.is_dir():
            helpers.load_fixtures(needed.fixtures)    # read once, before the children fork
    needed_numbers = spec.closure([p.number for p in chosen])
    needed_numbers |= {b for p in chosen for b in _builds_on_hint(spec, p)}
    graded = [p for p in spec.graded_problems if p in chosen or p.number in needed_numbers]
    jobs = [(spec, p) for p in graded]
    if graded:                                   # graded silently, to name a failure's cause
        jobs = [(r, p) for r in required for p in r.graded_problems] + jobs
    full = len(chosen) == len(spec.graded_problems)
    checks_problem = None
    if spec.practice and (practice_only or practice or (practice is None and full)):
        checks_problem = specs.Problem(PRACTICE, "Practice checks", 0,
                                       (spec.practice.module, spec.practice.prefix))
        jobs.append((spec, checks_problem))
    outcomes = loader.run_jobs(root, [(s.command, p.module, p.prefix, p.number)
                                      for s, p in jobs], limit, capture)
    by_spec = {}
    for (owner, problem), outcome in zip(jobs, outcomes):
        if problem is not checks_problem:
            by_spec.setdefault(owner.command, []).append(result_from(problem, outcome))
    earlier = []
    for needed in required:
        resolve(needed, by_spec.get(needed.command, []), earlier)
        earlier += by_spec.get(needed.command, [])
    results = by_spec.get(spec.command, [])
    resolve(spec, results, earlier)
    shown = [r for r in results if r.problem in chosen]
    for result in shown:
        report.problem(spec, result, stream)
    checks = None
    if checks_problem is not None:
        checks = result_from(checks_problem, outcomes[-1])
        report.practice(spec, checks, stream)
    if practice_only:
        report.practice_summary(spec, checks, stream)
    else:
        report.summary(spec, shown, stream, full=full)
    stream.flush()
    return Run(shown, checks)


def _builds_on_hint(spec, problem):
    """Problems a selected problem's model tests may build on: every earlier one."""
    index = spec.graded_problems.index(problem)
    return {p.number for p in spec.graded_problems[:index]}


def run(spec, problems=None, timeout=None, stream=None, capture=True, root=ROOT):
    """Grade and report; return {key: score} in problem order."""
    return {r.problem.key: r.score
            for r in grade(spec, problems, timeout, stream, capture, root).results}


def select(spec, problems=None):
    """The graded Problems named by ``problems`` ("2.4", "2.4 BatchNorm", "BatchNorm", a
    part such as "Dropout"); None: all."""
    if not problems:
        return list(spec.graded_problems)
    chosen = []
    for wanted in problems:
        text = str(wanted).strip()
        matches = [p for p in spec.graded_problems
                   if text in (p.number, p.key, p.name, p.part)]
        if not matches:
            raise ValueError("unknown problem {!r}; choose from: {}{}".format(
                wanted, ", ".join(p.number for p in spec.graded_problems),
                ", or practice" if spec.practice else ""))
        chosen += [p for p in matches if p not in chosen]
    return sorted(chosen, key=spec.graded_problems.index)


def resolve_timeout(timeout=None, default=DEFAULT_TIMEOUT):
    """``timeout`` if given (the --timeout option), else $AUTOGRADER_TIMEOUT, else
    ``default`` (seconds; 0 = no limit); a ValueError naming where the value came from for
    anything but a finite number >= 0."""
    if timeout is None:
        text = os.environ.get(TIMEOUT_ENV, "").strip()
        shown = "{}={!r}".format(TIMEOUT_ENV, text)
    else:
        text = str(timeout).strip()
        shown = "--timeout {!r}".format(text)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError("{} is not a number of seconds: give a finite number >= 0 (0 for no "
                         "limit)".format(shown))
    return value
