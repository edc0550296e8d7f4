"""The loader process: import the student's code once, then fork one child per problem.

Importing NumPy and the student's library costs more than most problems' tests, so
where ``fork`` exists one loader process (itself a sandboxed child of the grader)
imports everything once and forks every problem's child from itself.  Elsewhere
(Windows, or ``AUTOGRADER_NO_FORK=1``) each child is a fresh interpreter.
"""
import importlib
from collections import namedtuple

from autograder import child, isolation, specs

Job = namedtuple("Job", "command module prefix")
Job.__doc__ = """One child's work: the test functions of spec ``command``'s ``module`` whose
names start with ``prefix`` (a problem's tests, or the practice checks)."""


def run_jobs(root, jobs, timeout, capture=True):
    """Run each Job's tests in a child process of its own; [isolation.Outcome] in order."""
    jobs = [Job(*job) for job in jobs]
    if not isolation.FORK:
        return [isolation.run(child.run_tests, (str(root),) + tuple(job), timeout, capture)
                for job in jobs]
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
    child.use_root(root, graded)
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
    for index, job in enumerate(jobs):
        outcome = isolation.run(child.run_tests, (root,) + tuple(job) + (True,), timeout,
                                capture)
        report(dict(outcome.as_record(), event="outcome", index=index))
