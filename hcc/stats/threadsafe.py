"""Capturing warnings per thread: Python's warning machinery is process-global.

In a Streamlit server every session is a thread of one process. ``warnings.catch_warnings`` swaps the
process-wide filter list and ``warnings.showwarning`` (Python 3.11 has no per-thread or per-context
warnings), so with two sessions fitting models at once one session's fit could: record the other's
warnings (a "did not converge" note on a fit that converged), lose its own (a non-converged fit shown
as clean, when the other session's block ended first and restored the old state), or raise on the
other's warning (``simplefilter("error", ...)`` applies to every thread). :func:`thread_warnings`
gives each block only its own thread's warnings and serialises the swap.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

#: Held while a thread's capture is installed: two blocks never swap the global state at once.
#: Blocks are model fits (seconds at most); holds no data.
_WARNINGS_LOCK = threading.RLock()


@contextlib.contextmanager
def thread_warnings(raise_on: tuple[type[Warning], ...] = ()) -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning this thread issues inside the block (none is printed); warnings of a
    ``raise_on`` category are raised instead, as ``simplefilter("error", category)`` would, but in
    this thread only.

    Thread-safe replacement of ``warnings.catch_warnings(record=True)`` + ``simplefilter("always")``:
    other threads' warnings during the block go where they would have gone (their own capture, or the
    log), never into this list, and are never raised here.
    """
    me = threading.get_ident()
    caught: list[warnings.WarningMessage] = []
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("always")
        outer = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            if threading.get_ident() != me:
                outer(message, category, filename, lineno, file, line)
            elif issubclass(category, raise_on):
                raise message if isinstance(message, Warning) else category(message)
            else:
                caught.append(warnings.WarningMessage(message, category, filename, lineno, file, line))

        warnings.showwarning = show
        yield caught
