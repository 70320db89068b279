"""Warnings captured per thread (:mod:`hcc.stats.threadsafe`): two sessions fitting models at once (threads
of one Streamlit process) neither see, lose nor raise each other's warnings.

With ``warnings.catch_warnings`` (process-global in Python 3.11) each case below fails: the
``"error"`` filter of one thread raised in the other, and a capture ending first restored the
global state under the other's block, so that block lost its own warning."""

from __future__ import annotations

import threading
import warnings

import pytest
from lifelines.exceptions import ConvergenceWarning

from hcc.stats.threadsafe import thread_warnings


def _in_thread(target) -> threading.Thread:
    t = threading.Thread(target=target)
    t.start()
    return t


def test_another_threads_warning_is_neither_recorded_nor_raised_here() -> None:
    """Thread A captures (and raises on ConvergenceWarning in its own thread) while thread B, outside
    any capture, warns: A's list stays empty, B is not interrupted, A still raises its own."""
    inside, warned = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def a() -> None:
        with pytest.raises(ConvergenceWarning, match="A's own"):
            with thread_warnings(raise_on=(ConvergenceWarning,)) as caught:
                inside.set()
                warned.wait(timeout=10)
                seen["a_before_own"] = list(caught)
                warnings.warn("A's own", ConvergenceWarning)
        seen["a_raised"] = True

    def b() -> None:
        inside.wait(timeout=10)
        try:
            warnings.warn("B's convergence warning", ConvergenceWarning)  # e.g. a KM fit of another session
            seen["b"] = "not raised"
        except ConvergenceWarning:
            seen["b"] = "raised"
        finally:
            warned.set()

    with warnings.catch_warnings(record=True) as log:  # where B's warning goes without A: this log
        ta = _in_thread(a)
        tb = _in_thread(b)
        ta.join(timeout=20)
        tb.join(timeout=20)
    assert seen == {"a_before_own": [], "a_raised": True, "b": "not raised"}
    assert [str(w.message) for w in log] == ["B's convergence warning"]


def test_two_overlapping_captures_each_get_their_own_warnings() -> None:
    """A's block starts first and ends first; B's block overlaps it. Each list holds exactly its own
    thread's warnings (B's was lost when A restored the global state under it)."""
    a_in, b_started, a_done = threading.Event(), threading.Event(), threading.Event()
    got: dict[str, list[str]] = {}

    def a() -> None:
        with thread_warnings() as caught:
            a_in.set()
            b_started.wait(timeout=10)
            warnings.warn("from A", UserWarning)
        a_done.set()
        got["a"] = [str(w.message) for w in caught]

    def b() -> None:
        a_in.wait(timeout=10)
        b_started.set()
        with thread_warnings() as caught:
            a_done.wait(timeout=10)
            warnings.warn("from B", ConvergenceWarning)
        got["b"] = [str(w.message) for w in caught]

    ta = _in_thread(a)
    tb = _in_thread(b)
    ta.join(timeout=30)
    tb.join(timeout=30)
    assert got == {"a": ["from A"], "b": ["from B"]}


def test_nested_capture_in_one_thread() -> None:
    with thread_warnings() as outer:
        with thread_warnings() as inner:
            warnings.warn("inner", UserWarning)
        warnings.warn("outer", UserWarning)
    assert [str(w.message) for w in inner] == ["inner"] and [str(w.message) for w in outer] == ["outer"]
