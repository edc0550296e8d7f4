"""Run student code in a child process with a hard time limit, bounded output and bounded memory.

The autograder never runs a student's code in its own process: whatever that code
does (``os._exit``, ``sys.exit``, an endless loop that swallows every exception,
a segmentation fault, a runaway allocation or recursion, a flood of prints), the
child ends and the grader reports why, then goes on with the next problem.

    outcome = run(target, args, timeout=60)
    outcome.records   # what the child reported, one dict per report(...) call
    outcome.output    # the first OUTPUT_LIMIT characters it printed (stdout and stderr)
    outcome.ending    # None if it finished normally, else a sentence saying how it ended

``target(report, *args)`` runs in the child and calls ``report(dict)`` to send
JSON-serializable records back as it goes, so what happened before a crash or a
hang is kept.  Where ``os.fork`` exists the child is forked from the grader, so
NumPy and the grader's modules are already loaded; elsewhere (Windows) a fresh
interpreter runs ``target``, which must then be a module-level function.

Time: at ``timeout`` seconds an alarm in the child reports where the code was
running and raises ``TimeLimitExceeded`` (a BaseException, so ``except Exception``
does not catch it); if the code still has not finished ``GRACE`` seconds later
(it caught the alarm, or it is stuck in C code), the child and everything it
started are killed.
"""
import contextlib
import faulthandler
import gc
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback

OUTPUT_LIMIT = 20000          # characters of the child's output kept; the rest is counted
GRACE = 2.0                   # seconds between the alarm and the kill
MEMORY_ENV = "AUTOGRADER_MEMORY_MB"
DEFAULT_MEMORY_MB = 3072      # address space a child may add to what it inherits
_RECORD_LIMIT = 1 << 24       # bytes of records kept (a test's record is a few hundred bytes)
FORK = hasattr(os, "fork") and os.environ.get("AUTOGRADER_NO_FORK") != "1"


class TimeLimitExceeded(BaseException):
    """Raised in the child's code when it runs out of time."""


class Outcome:
    """What a child did: its records, its (bounded) output, and how it ended."""

    def __init__(self):
        self.records, self.output, self.ending, self.seconds = [], "", None, 0.0
        self.output_dropped = 0

    def __repr__(self):
        return "Outcome(records={}, ending={!r})".format(len(self.records), self.ending)

    def as_record(self):
        """This outcome as a JSON-serializable dict (to pass it on from a child)."""
        return {"records": self.records, "output": self.output, "ending": self.ending,
                "dropped": self.output_dropped, "seconds": self.seconds}

    @classmethod
    def from_record(cls, record):
        outcome = cls()
        outcome.records, outcome.output, outcome.ending = (record["records"], record["output"],
                                                           record["ending"])
        outcome.output_dropped, outcome.seconds = record["dropped"], record["seconds"]
        return outcome


# --------------------------------------------------------------------------- #
# Parent side
# --------------------------------------------------------------------------- #
def run(target, args=(), timeout=60.0, capture=True):
    """Run ``target(report, *args)`` in a child process; return an Outcome (never raises).

    ``timeout`` is in seconds (0 or None: no limit).  With ``capture=False`` the
    child keeps the terminal (its prints appear live and ``pdb`` works).
    """
    started = time.perf_counter()
    if FORK:
        outcome = _run_forked(target, args, timeout, capture)
    else:
        outcome = _run_spawned(target, args, timeout, capture)
    outcome.seconds = time.perf_counter() - started
    return outcome


class _Collector:
    """Reads the child's two pipes: records (JSON lines) and output (kept up to a limit)."""

    def __init__(self, outcome):
        self.outcome, self.pending, self.record_bytes = outcome, b"", 0
        self.output = bytearray()

    def records(self, chunk):
        self.record_bytes += len(chunk)
        if self.record_bytes > _RECORD_LIMIT:
            return
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            try:
                self.outcome.records.append(json.loads(line.decode("utf-8")))
            except ValueError:
                pass                           # the student's code wrote into our pipe

    def output_chunk(self, chunk):
        room = OUTPUT_LIMIT - len(self.output)
        if room > 0:
            self.output += chunk[:room]
        self.outcome.output_dropped += max(0, len(chunk) - max(room, 0))

    def finish(self):
        self.outcome.output = self.output.decode("utf-8", "replace")


def _deadline(timeout):
    return None if not timeout else time.monotonic() + timeout + GRACE


def _run_forked(target, args, timeout, capture):
    outcome = Outcome()
    record_read, record_write = os.pipe()
    output_read, output_write = os.pipe() if capture else (None, None)
    sys.stdout.flush()
    sys.stderr.flush()
    # The child's garbage collector would otherwise walk (and so copy) every object the
    # parent holds: freezing them first keeps a fork cheap in a large parent (pytest).
    gc.freeze()
    pid = os.fork()
    if pid != 0:
        gc.unfreeze()
    if pid == 0:                                             # the child
        os.close(record_read)
        if capture:
            os.close(output_read)
        _child(target, args, timeout, record_write, output_write)   # never returns
    os.close(record_write)
    if capture:
        os.close(output_write)
    collector = _Collector(outcome)
    handlers = {record_read: collector.records}
    if capture:
        handlers[output_read] = collector.output_chunk
    deadline = _deadline(timeout)
    killed = False
    while handlers:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select(list(handlers), [], [], wait)
        if not ready:                                        # past the deadline
            _kill_group(pid)
            killed = True
            break
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                handlers[fd](chunk)
            else:
                del handlers[fd]
    for fd in (record_read, output_read):
        if fd is not None:
            os.close(fd)
    status = None if killed else _wait(pid, deadline)
    if status is None:                   # the pipes closed, but the child runs on
        if not killed:
            _kill_group(pid)
            killed = True
        status = os.waitpid(pid, 0)[1]
    collector.finish()
    outcome.ending = _ending(outcome, status, killed, timeout)
    return outcome


def _wait(pid, deadline):
    """The child's wait status, or None if it is still running at ``deadline``."""
    if deadline is None:
        return os.waitpid(pid, 0)[1]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def _kill_group(pid):
    """Kill the child and anything it started (it leads its own process group)."""
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
            return
        except (OSError, AttributeError):
            continue


SIGNAL_NAMES = {"SIGSEGV": "a segmentation fault", "SIGABRT": "an abort",
                "SIGBUS": "a bus error", "SIGFPE": "a floating-point exception",
                "SIGKILL": "SIGKILL (out of memory?)", "SIGILL": "an illegal instruction"}


def _ending(outcome, status, killed, timeout):
    """None for a normal end, else a sentence for the report."""
    finished = bool(outcome.records) and outcome.records[-1].get("event") == "done"
    if killed:
        return ("killed after {:g} s: still running {:g} s after the time limit "
                "(an endless loop that catches the timeout, or a hang in C code)"
                .format(timeout + GRACE, GRACE))
    if hasattr(os, "WIFSIGNALED") and os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "signal {}".format(number)
        return "the Python process crashed with {} ({})".format(
            SIGNAL_NAMES.get(name, name), name)
    if finished:
        return None
    code = os.WEXITSTATUS(status) if hasattr(os, "WEXITSTATUS") else status
    return ("your code ended the Python process (exit status {}, e.g. os._exit() or "
            "exit() in a background thread) before the tests finished".format(code))


# --------------------------------------------------------------------------- #
# Child side
# --------------------------------------------------------------------------- #
def _child(target, args, timeout, record_fd, output_fd):
    """Body of a forked child: set up, run ``target``, and leave with os._exit."""
    status = 70                                  # if the grader itself fails here
    records = os.fdopen(record_fd, "w", buffering=1)
    try:
        if output_fd is not None:
            os.setpgid(0, 0)        # its own group, so a kill reaches what it started;
            devnull = os.open(os.devnull, os.O_RDONLY)      # (not with the terminal: pdb)
            os.dup2(devnull, 0)
            os.dup2(output_fd, 1)
            os.dup2(output_fd, 2)
            os.close(output_fd)
            # print() must reach the pipe even if the parent had replaced sys.stdout (pytest)
            sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
            sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
            if faulthandler.is_enabled():     # a crash's traceback goes to the captured output
                faulthandler.enable(file=sys.stderr)
        status = _child_body(target, args, timeout, records)
    except BaseException as error:
        try:
            records.write(json.dumps({"event": "crash", "lines": [
                "the autograder failed in the child process: {}: {}".format(
                    type(error).__name__, error)]}) + "\n")
            records.flush()
        except BaseException:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(status)


def _child_body(target, args, timeout, records):
    def report(record):
        records.write(json.dumps(record) + "\n")
        records.flush()

    _limit_memory()
    _arm_alarm(timeout, report)
    try:
        target(report, *args)
    except TimeLimitExceeded:
        pass                                     # already reported by the alarm
    except BaseException as error:               # SystemExit, KeyboardInterrupt, ... outside a test
        report({"event": "crash", "lines": traceback.format_exception_only(
            type(error), error)[-1:] + traceback.format_exc(limit=-4).splitlines()[:-1]})
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)
    report({"event": "done"})
    return 0


def _arm_alarm(timeout, report):
    """At ``timeout`` seconds, report where the code is running and raise TimeLimitExceeded."""
    if not timeout or not hasattr(signal, "setitimer"):
        return
    state = {"reported": False}

    def on_alarm(signum, frame):
        if not state["reported"]:
            state["reported"] = True
            report({"event": "timeout", "seconds": timeout, "where": where(frame)})
        raise TimeLimitExceeded("timed out after {:g} s".format(timeout))

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout, 0.5)     # repeats until the kill


@contextlib.contextmanager
def alarm(seconds):
    """Raise TimeLimitExceeded in the block after ``seconds`` (0 or None: never).

    Yields a list that, once the time is up, holds where the code was running.
    A timer already running (the child's own) is suspended meanwhile."""
    expired = []
    if not seconds or not hasattr(signal, "setitimer"):
        yield expired
        return

    def on_alarm(signum, frame):
        if not expired:
            expired.extend(where(frame))
        raise TimeLimitExceeded("timed out after {:g} s".format(seconds))

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield expired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)


def where(frame, limit=4):
    """The innermost ``limit`` frames above ``frame``: "file:line in function" strings, each
    followed by its source line."""
    lines = []
    for f in traceback.extract_stack(frame, limit=limit):
        lines.append("{}:{} in {}".format(f.filename, f.lineno, f.name))
        if f.line:
            lines.append("    " + f.line.strip())
    return lines


def _limit_memory():
    """Cap the child's address space, so a runaway allocation raises MemoryError here
    instead of exhausting the machine (Linux; elsewhere nothing is capped)."""
    try:
        import resource
        extra = int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB)) << 20
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) << 10 for line in status
                        if line.startswith("VmSize:"))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError, StopIteration):
        pass


# --------------------------------------------------------------------------- #
# No fork (Windows, or AUTOGRADER_NO_FORK=1): a fresh interpreter runs the target
# --------------------------------------------------------------------------- #
def _run_spawned(target, args, timeout, capture):
    outcome = Outcome()
    spec = json.dumps({"module": target.__module__, "name": target.__qualname__,
                       "args": list(args), "timeout": timeout})
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys, json; sys.path[:] = json.loads(sys.argv[2]); "
         "from autograder import isolation; isolation._spawned_child(sys.argv[1])", spec,
         json.dumps(sys.path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if capture else None,
        start_new_session=hasattr(os, "setsid"))
    collector = _Collector(outcome)
    readers = [threading.Thread(target=_drain, args=(process.stdout, collector.records))]
    if capture:
        readers.append(threading.Thread(target=_drain, args=(process.stderr,
                                                             collector.output_chunk)))
    for reader in readers:
        reader.daemon = True
        reader.start()
    killed = False
    try:
        process.wait(None if not timeout else timeout + GRACE)
    except subprocess.TimeoutExpired:
        killed = True
        if hasattr(os, "killpg"):
            _kill_group(process.pid)
        process.kill()
        process.wait()
    for reader in readers:
        reader.join(5)
    collector.finish()
    status = process.returncode
    if status is not None and status < 0 and hasattr(os, "WIFSIGNALED"):
        status = -status                                     # killed by that signal
    elif status is not None and hasattr(os, "WIFSIGNALED"):
        status = status << 8
    outcome.ending = _ending(outcome, status, killed, timeout)
    return outcome


def _drain(stream, handler):
    for chunk in iter(lambda: stream.read1(65536) if hasattr(stream, "read1")
                      else stream.read(65536), b""):
        handler(chunk)


def _spawned_child(spec_text):
    """Entry point of a spawned child: records go to stdout, the code's prints to stderr."""
    spec = json.loads(spec_text)
    target = importlib.import_module(spec["module"])
    for part in spec["name"].split("."):
        target = getattr(target, part)
    records = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.exit(_child_body(target, spec["args"], spec["timeout"], records))
