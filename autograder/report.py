"""The grader's report: what a student reads after ``./grade.sh``.

A FAIL block per failing problem (each failing test with its message, the notes that
say where the trouble comes from, what the code printed), the practice checks under
their own heading, the score table, the total, and the Autolab JSON line, always last.
"""
import json
import platform

MAX_MESSAGE_LINES = 30
MAX_OUTPUT_LINES = 20


def heading(spec, stream):
    print("MyTorch local autograder, {} (Python {}, NumPy {})".format(
        spec.title, platform.python_version(), _numpy_version()), file=stream)
    stream.flush()


def _numpy_version():
    try:
        import numpy
        return numpy.__version__
    except ImportError:
        return "not installed"


def problem(spec, result, stream):
    """The FAIL block of a failing problem, or a NOTE for a passing one with tests not graded."""
    graded = result.problem
    if result.passed and not result.not_graded:
        return
    if result.passed:
        print("\nNOTE {} ({}): passes; {} whole-model test(s) not graded".format(
            graded.key, points(graded.points), len(result.not_graded)), file=stream)
    else:
        print("\nFAIL {} ({})".format(graded.key, points(graded.points)), file=stream)
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
    link = spec.sheet_link(graded)
    if not result.passed and link and not any(link in line for t in result.tests
                                              for line in t.lines):
        print("  (the problem sheet: {})".format(link), file=stream)
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


def points(count):
    """ "1 point", "5 points"."""
    return "{} point{}".format(count, "" if count == 1 else "s")


def _clip(lines):
    if len(lines) > MAX_MESSAGE_LINES:
        return lines[:MAX_MESSAGE_LINES] + ["... ({} more lines)".format(
            len(lines) - MAX_MESSAGE_LINES)]
    return lines


def practice(spec, result, stream):
    """Practice checks: each failing check, then one line "Practice checks: K/N pass"."""
    print("\nPractice checks (0 points, not in the score: {})".format(spec.practice.about),
          file=stream)
    for line in _clip(result.problem_lines):
        print("    " + line, file=stream)
    for test in result.tests:
        if test.status != "pass":
            print("  {}: {}".format(test.name[len(spec.practice.prefix):], test.lines[0]
                                    if test.lines else test.status), file=stream)
            for line in _clip(test.lines[1:]):         # the traceback down to your line
                print("      " + line, file=stream)
    passing = sum(t.status == "pass" for t in result.tests)
    print("Practice checks: {}/{} pass".format(passing, len(result.tests)), file=stream)


def practice_summary(spec, result, stream):
    """The last line of a practice-only run: which checks pass, as JSON."""
    prefix = spec.practice.prefix
    print(json.dumps({"practice": {t.name[len(prefix):]: t.status == "pass" for t in result.tests}}),
          file=stream)


def summary(spec, results, stream, full=True):
    width = max([len(r.problem.key) for r in results] + [7])
    print("\n{:<{w}}  {:>6}  {}".format("Problem", "Score", "Result", w=width), file=stream)
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        if not r.passed and r.tests and len(r.not_graded) == len(r.tests):
            verdict += " (not graded: it builds on a problem that fails, see above)"
        if r.passed and r.not_graded:
            verdict += " (a model test not graded: see NOTE above)"
        print("{:<{w}}  {:>6}  {}".format(r.problem.key, "{}/{}".format(r.score, r.problem.points),
                                          verdict, w=width), file=stream)
    total = sum(r.score for r in results)
    possible = sum(r.problem.points for r in results)
    print("Total score: {}/{}{}".format(total, possible, "" if full else " (selected problems)"),
          file=stream)
    if full and spec.footer:
        print(spec.footer, file=stream)
    print(json.dumps({"scores": {r.problem.key: r.score for r in results}}), file=stream)


def crash(spec, error, stream):
    """The grader itself failed: say so, and still end with the JSON line (all zero)."""
    print("\nThe autograder could not finish: {}: {}".format(type(error).__name__, error),
          file=stream)
    print(json.dumps({"scores": {p.key: 0 for p in spec.graded_problems}}), file=stream)
