"""The loader process: import the student's code once, then fork one child per problem.

Importing NumPy and the student's library costs more than most problems' tests, so
where ``fork`` exists one loader process (itself a sandboxed child of the grader)
imports everything once and forks every problem's child from itself.  Elsewhere
(Windows, or ``AUTOGRADER_NO_FORK=1``) each child is a fresh interpreter.
"""
import importlib
import os
import shutil
from collections import namedtuple

from autograder import child, isolation, specs

Job = namedtuple("Job", "command module prefix number")
Job.__doc__ = """One child's work: the test functions of spec ``command``'s ``module`` whose
names start with ``prefix``: the tests of problem ``number``, or the practice checks."""


def run_jobs(root, jobs, timeout, capture=True):
    """Run each Job's tests in a child process of its own; [isolation.Outcome] in order."""
    jobs = [Job(*job) for job in jobs]
    root = os.path.abspath(str(root))          # the children work in a scratch folder
    if not isolation.FORK:
        outcomes, timed_out = [], set()
        for job in jobs:
            outcome = _skipped(job, timed_out) or isolation.run(
                child.run_tests, (str(root),) + tuple(job)[:3], timeout, capture)
            _note_timeout(job, outcome, timed_out)
            outcomes.append(outcome)
        return outcomes
    overall = None if not timeout else len(jobs) * (timeout + isolation.GRACE) + 30
    loader = isolation.run(_loader, (str(root), jobs, timeout, capture), overall, capture)
    outcomes = [None] * len(jobs)
    failure = None
    for record in loader.records:
        if record.get("event") == "outcome":
            outcomes[record["index"]] = isolation.Outcome.from_record(record)
        elif record.get("event") == "import-timeout":
            failure = record["lines"]
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            outcome = outcomes[index] = isolation.Outcome()
            outcome.records = [{"event": "setup-error", "lines": failure or [
                "the grader's loader process ended before this problem ran: {}".format(
                    loader.ending or "no reason given")]}]
    return outcomes


def _loader(report, root, jobs, timeout, capture):
    """The loader process: import the student's code once (within ``timeout``), then run
    each job in a child forked from here, and report each child's Outcome."""
    graded = []
    for job in jobs:
        spec = specs.get(job.command)
        for needed in [spec] + specs.requirements(spec):
            if needed not in graded:
                graded.append(needed)
    scratch = child.use_root(root, graded)
    try:
        _load_and_run(report, root, jobs, timeout, capture)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _load_and_run(report, root, jobs, timeout, capture):
    child.code_owners(root)
    with isolation.alarm(timeout) as expired:
        try:
            for job in jobs:
                try:
                    importlib.import_module("{}.{}".format(specs.get(job.command).package,
                                                           job.module))
                except Exception:
                    pass                      # each child imports it again and reports why
        except isolation.TimeLimitExceeded:
            pass
    if expired:
        report({"event": "import-timeout", "lines": [
            "importing your code took longer than {:g} s, the limit per problem (code at the "
            "top level of a module that loops?); it was running:".format(timeout)]
            + ["  " + line for line in expired]})
        return
    timed_out = set()
    for index, job in enumerate(jobs):
        outcome = _skipped(job, timed_out) or isolation.run(
            child.run_tests, (root,) + tuple(job)[:3] + (True,), timeout, capture)
        _note_timeout(job, outcome, timed_out)
        report(dict(outcome.as_record(), event="outcome", index=index))


def _note_timeout(job, outcome, timed_out):
    """Remember (command, number) of a problem whose child ran out of time."""
    if any(record.get("event") == "timeout" for record in outcome.records) or \
            (outcome.ending or "").startswith("killed after"):
        timed_out.add((job.command, job.number))


def _skipped(job, timed_out):
    """An Outcome that says why ``job`` is not run, if a problem it depends on timed out
    (it would most likely wait out the same limit in the same loop), else None."""
    if not timed_out:
        return None
    spec = specs.get(job.command)
    if job.number in spec.depends_on:
        needed = {(spec.command, n) for n in spec.closure([job.number]) - {job.number}}
        needed |= {(r.command, p.number) for r in specs.requirements(spec) for p in r.problems}
    else:                                           # the practice checks: they may run any
        needed = set(timed_out)
    blockers = sorted(needed & timed_out)
    if not blockers:
        return None
    outcome = isolation.Outcome()
    names = ", ".join(n if c == job.command else "{} of ./grade.sh {}".format(n, c)
                      for c, n in blockers)
    outcome.records = [{"event": "setup-error", "lines": [
        "not graded: it uses the code of {}, which ran out of time (an endless loop?); fix "
        "{} first: this problem would most likely wait out the same limit".format(names,
                                                                                  names)]}]
    return outcome
