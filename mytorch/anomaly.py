"""Anomaly detection: find the op that first turned numbers into NaN or inf.

    import mytorch
    with mytorch.detect_anomaly():          # or mytorch.set_detect_anomaly(True)
        loss = criterion(model(x), y)
        loss.backward()

While it is on, every op remembers where it was created: the file and line of
the first frame outside mytorch/ (your script, your model's forward), and

- a forward that turns finite inputs into NaN or inf (``log`` of a negative
  number, ``exp`` of 1000) raises RuntimeError at once, naming the op, the
  first bad element and that line;
- a backward that returns a NaN or inf gradient raises RuntimeError naming
  the Function, the input the gradient is for, and the line where the op
  was created.

An op whose inputs already hold NaN or inf (your data, or an op made while
the mode was off) is not blamed, forward or backward: it only passes them on.
Off (the default), nothing is checked: NaN and inf propagate as in PyTorch.

The mode is one switch for the whole program, as PyTorch's is: while it is on,
the ops of every thread are checked.  It is on while ``set_detect_anomaly(True)``
holds or any ``detect_anomaly()`` block is running, in any thread; so two
threads' blocks may overlap in any order, and the mode goes off when the last
block ends (unless ``set_detect_anomaly(True)`` is in force).

How: switching it on wraps the ``forward`` and ``backward`` of every Function
subclass in a checking function (a class defined later is wrapped by
``Function.__init_subclass__``); switching it off puts the originals back.  The
checks therefore live on the ops themselves, not in ``Function.apply`` or the
engine's ``backward()``, so they work with any apply and any backward
(a student's own included), and with anomaly mode off an op is exactly the op
it was, at no cost.
"""
import contextlib
import functools
import inspect
import linecache
import os
import sys
import threading

import numpy as np

from mytorch import autograd_engine, tensor

_enabled = False        # whether the ops are wrapped now
_switched_on = False    # set_detect_anomaly's setting
_open_blocks = 0        # detect_anomaly() blocks running now, in every thread
_lock = threading.RLock()
_wrapped = []           # (class, "forward"/"backward", original attribute, wrapper) while on
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_inside_package = {}    # co_filename -> whether it is a file of mytorch/ (cache)


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return _enabled


def set_detect_anomaly(mode):
    """Turn anomaly detection on (``True``) or off (``False``) for the whole program.

    ``detect_anomaly()`` blocks that are running keep it on until they end.
    """
    global _switched_on
    if not isinstance(mode, (bool, np.bool_)):
        raise TypeError("set_detect_anomaly(mode): mode must be True or False, got {!r} (a {})"
                        .format(mode, type(mode).__name__))
    with _lock:
        _switched_on = bool(mode)
        _update()


@contextlib.contextmanager
def detect_anomaly():
    """Anomaly detection inside a ``with`` block; off again when the block ends, unless
    another block is still running (in any thread) or ``set_detect_anomaly(True)`` holds.

    >>> x = Tensor([1., -1.], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = x.log()
    Traceback (most recent call last):
    RuntimeError: Log.forward turned finite inputs into NaN ... created at <stdin>:3
    """
    global _open_blocks
    with _lock:
        _open_blocks += 1
        _update()
    try:
        yield
    finally:
        with _lock:
            _open_blocks -= 1
            _update()


def _update():
    """Wrap or unwrap the ops, so the mode is on exactly when something asks for it.

    Counting the running blocks, rather than each block restoring the state it
    found, keeps blocks of two threads that overlap from leaving the mode on.
    """
    global _enabled
    with _lock:
        mode = _switched_on or _open_blocks > 0
        if mode == _enabled:
            return
        if mode:
            for cls in _function_classes():
                _watch(cls)
        else:
            for cls, name, original, wrapper in reversed(_wrapped):
                if cls.__dict__.get(name) is wrapper:        # unless replaced since
                    setattr(cls, name, original)
            del _wrapped[:]
        _enabled = mode


def watch_new_class(cls):
    """Give ``cls``, a Function subclass just defined, its checks if the mode is on."""
    with _lock:
        if _enabled:
            _watch(cls)


# --------------------------------------------------------------------------- #
# Wrapping the ops
# --------------------------------------------------------------------------- #
def _function_classes():
    """Every subclass of Function defined so far (iteratively: no recursion limit)."""
    found, stack = [], list(autograd_engine.Function.__subclasses__())
    seen = set()
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.add(cls)
            found.append(cls)
            stack.extend(cls.__subclasses__())
    return found


def _watch(cls):
    """Replace the forward and backward that ``cls`` defines itself by checking wrappers."""
    for name, make in (("forward", _checked_forward), ("backward", _checked_backward)):
        original = cls.__dict__.get(name)
        if isinstance(original, staticmethod):
            function = original.__func__
        elif inspect.isfunction(original):
            function = original
        else:                     # inherited (its owner is wrapped), or not a plain function
            continue
        if getattr(function, "_anomaly_checked", False):
            continue
        wrapper = staticmethod(make(cls.__name__, function))
        setattr(cls, name, wrapper)
        _wrapped.append((cls, name, original, wrapper))


def _checked_forward(op, forward):
    @functools.wraps(forward)
    def checked_forward(ctx, *args, **kwargs):
        site = _creation_site()
        output = forward(ctx, *args, **kwargs)
        finite_inputs = _check_forward(op, args, output, site)
        try:                                  # for the backward check
            ctx._anomaly_site, ctx._anomaly_finite_inputs = site, finite_inputs
        except AttributeError:
            pass
        return output
    checked_forward._anomaly_checked = True
    return checked_forward


def _checked_backward(op, backward):
    @functools.wraps(backward)
    def checked_backward(ctx, *grad_outputs):
        grads = backward(ctx, *grad_outputs)
        _check_backward(op, ctx, grad_outputs, grads)
        return grads
    checked_backward._anomaly_checked = True
    return checked_backward


# --------------------------------------------------------------------------- #
# The checks
# --------------------------------------------------------------------------- #
def _creation_site():
    """(file, line) of the first frame outside mytorch/ that led to this op, or None."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = _inside_package.get(filename)
        if inside is None:
            path = os.path.abspath(filename)
            inside = _inside_package[filename] = path.startswith(_PACKAGE_DIR + os.sep)
        if not inside:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def _describe_site(site):
    """'The op was created at file:line:  source' (relative to the working directory)."""
    if site is None:
        return ("The op was created while anomaly mode was off, so where is unknown: turn it "
                "on before the forward pass")
    filename, line = site
    try:
        shown = os.path.relpath(filename)
        if shown.startswith(os.pardir):
            shown = filename
    except ValueError:                               # another drive (Windows)
        shown = filename
    source = linecache.getline(filename, line).strip()
    return "The op was created at {}:{}{}".format(shown, line, ":  " + source if source else "")


def _array(value):
    """The float array in ``value`` (a Tensor or an ndarray), or None if it has none."""
    if isinstance(value, tensor.Tensor):
        value = value.data
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return value
    return None


def _what_is_wrong(array):
    """'NaN', 'inf' or 'NaN and inf', plus how many and where the first is."""
    bad = ~np.isfinite(array)
    kinds = [kind for kind, found in (("NaN", np.isnan(array).any()),
                                      ("inf", np.isinf(array).any())) if found]
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
    where = "" if not array.ndim else " ({} of {} elements, the first at index {})".format(
        int(bad.sum()), array.size, first)
    return " and ".join(kinds), where, first


def _check_forward(op, args, output, site):
    """Raise if finite inputs gave a NaN or inf output; return whether the inputs were finite."""
    finite_inputs = all(np.isfinite(a).all() for a in (_array(arg) for arg in args)
                        if a is not None)
    out = _array(output)
    if out is None or not finite_inputs or np.isfinite(out).all():
        return finite_inputs               # (NaN in, NaN out: not this op's doing)
    kinds, where, first = _what_is_wrong(out)
    values = ["input {} is {!r}".format(i, _array(arg)[first].item())
              for i, arg in enumerate(args)
              if _array(arg) is not None and _array(arg).shape == out.shape and out.ndim]
    if values:
        where = where[:-1] + ", where " + " and ".join(values) + ")"
    raise RuntimeError("{}.forward turned finite inputs into {}{}. {}"
                       .format(op, kinds, where, _describe_site(site)))


def _check_backward(op, ctx, grad_outputs, grads):
    items = grads if isinstance(grads, (tuple, list)) else (grads,)
    for index, grad in enumerate(items):
        array = _array(grad)
        if array is None or np.isfinite(array).all():
            continue
        if not _inputs_were_finite(ctx):
            return                         # NaN in, NaN out: not this op's doing
        kinds, where, _ = _what_is_wrong(array)
        incoming = [a for a in (_array(g) for g in grad_outputs) if a is not None]
        was = ("was finite" if all(np.isfinite(a).all() for a in incoming)
               else "already had NaN or inf (from the seed given to backward(), or from a sum "
                    "of gradients that overflowed)")
        raise RuntimeError("{}.backward returned {} in its gradient for input {}{}, and its "
                           "incoming gradient {}. {}"
                           .format(op, kinds, index, where, was,
                                   _describe_site(getattr(ctx, "_anomaly_site", None))))


def _inputs_were_finite(ctx):
    """Whether the op's forward inputs were free of NaN and inf: as its checked forward saw
    them, or, for an op made while the mode was off, as far as its saved tensors tell."""
    finite = getattr(ctx, "_anomaly_finite_inputs", None)
    if finite is not None:
        return finite
    saved = [_array(t) for t in getattr(ctx, "_saved", ())]
    return all(np.isfinite(a).all() for a in saved if a is not None)
