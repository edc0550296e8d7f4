"""The command line behind ``./grade.sh``: ``python3 -m autograder.cli COMMAND [ARGS]``.

COMMAND is a spec's ``./grade.sh`` subcommand ("1", "1b", "2", ...; autograder/specs.py)
or a script a spec owns ("m": HW1's MNIST trainer).  A grader command grades; a
script command runs the script with the remaining arguments.  Exit status: 0 if every
selected problem passed, 1 if one failed or the grader could not finish, 2 for bad
arguments.
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import specs  # noqa: E402  (needs ROOT on sys.path)


def usage():
    """One line per ./grade.sh subcommand, from the specs."""
    lines = ["usage: ./grade.sh COMMAND [PROBLEM ...] [--timeout SECONDS] [--show-output]", "",
             "commands:"]
    for spec in specs.all_specs():
        points = sum(p.points for p in spec.graded_problems)
        also = " (also: {})".format(", ".join(spec.aliases)) if spec.aliases else ""
        lines.append("  {:<4} grade {} ({} points){}".format(spec.command, spec.title, points,
                                                            also))
        if spec.practice:
            lines.append("  {:<4} ... '{} practice': its practice checks alone (0 points)"
                         .format("", spec.command))
        for command, (_, about) in spec.scripts.items():
            lines.append("  {:<4} {}".format(command, about))
    lines += ["", "./grade.sh COMMAND --help tells more about one command."]
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        all_specs = specs.all_specs()
    except specs.SpecError as error:
        print("grade.sh: {}".format(error), file=sys.stderr)
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    for spec in all_specs:
        if command in spec.scripts:
            script = spec.folder / spec.scripts[command][0]
            sys.stdout.flush()
            # A fresh interpreter: the script sets its thread limits before NumPy loads.
            os.execv(sys.executable, [sys.executable, str(script)] + rest)
    try:
        spec = specs.get(command)
    except KeyError:
        print("grade.sh: unknown command {!r}\n\n{}".format(command, usage()), file=sys.stderr)
        return 2
    return grade_main(spec, rest)


def grade_main(spec, argv=None, description=None):
    """The command line of one grader; returns its exit status."""
    from autograder import grading, report     # imports NumPy: only once we grade
    problems = " ".join(p.number for p in spec.graded_problems)
    parser = argparse.ArgumentParser(
        prog="./grade.sh {}".format(spec.command),
        description=description or "Grade {}.".format(spec.title),
        epilog="Exit status: 0 if every problem passed, 1 otherwise.  Debug one problem "
               "with pdb: PROBLEM --show-output --timeout 0")
    parser.add_argument("problems", nargs="*", metavar="PROBLEM",
                        help="problems to grade (default: all): {}{}".format(
                            problems, "; or 'practice' for the practice checks alone"
                            if spec.practice else ""))
    parser.add_argument("--timeout", default=None, metavar="SECONDS",
                        help="time limit per problem (default: ${} or {:g}; 0: none)"
                        .format(grading.TIMEOUT_ENV, grading.DEFAULT_TIMEOUT))
    parser.add_argument("-s", "--show-output", action="store_true",
                        help="let your code's print()s (and pdb) use the terminal")
    args = parser.parse_args(argv)
    practice_only = [p.strip() for p in args.problems] == [grading.PRACTICE]
    try:
        if practice_only and not spec.practice:
            raise ValueError("{} has no practice checks".format(spec.title))
        if not practice_only:
            grading.select(spec, args.problems)
        grading.resolve_timeout(args.timeout)
    except ValueError as error:
        parser.error(str(error))
    try:
        run = grading.grade(spec, args.problems or None, args.timeout,
                            capture=not args.show_output)
    except BrokenPipeError:                   # `./grade.sh 1 | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        sys.stdout.flush()
        report.crash(spec, error, sys.stdout)
        return 1
    if practice_only:
        return 0 if all(t.status == "pass" for t in run.practice.tests) else 1
    return 0 if all(r.passed for r in run.results) else 1


def runner(command, description):
    """What a grader folder's runner.py offers: (its spec, ``grade(problems=None, timeout=None,
    stream=None, capture=True, root=ROOT, practice=None) -> grading.Run``, ``main(argv=None)
    -> exit status``).  ``python3 autograder/hw1_autograder/runner.py`` is the handout's way
    to run ``./grade.sh 1``."""
    from autograder import grading
    spec = specs.get(command)

    def grade(problems=None, timeout=None, stream=None, capture=True, root=ROOT, practice=None):
        """Grade and print the report to ``stream``; return a grading.Run."""
        return grading.grade(spec, problems, timeout, stream, capture, root, practice)

    def main(argv=None):
        return grade_main(spec, argv, description)
    return spec, grade, main


if __name__ == "__main__":
    sys.exit(main())
