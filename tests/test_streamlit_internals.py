"""Canary for the Streamlit internals the app relies on (ui/streamlit_internals.py, pinned 1.67.0).

Each assertion says what moved, so a Streamlit upgrade fails here with a readable message rather
than in a user's session.
"""

from __future__ import annotations

import ast
import importlib
import logging
from pathlib import Path

import streamlit

ROOT = Path(__file__).resolve().parent.parent
PINNED = "1.67.0"


def test_streamlit_is_the_pinned_version() -> None:
    assert streamlit.__version__ == PINNED, (
        f"Streamlit {streamlit.__version__} is installed; ui/streamlit_internals.py was checked against "
        f"{PINNED}: re-check each internal it uses, then update PINNED here and requirements.txt")


def test_the_internals_still_exist() -> None:
    pages_manager = importlib.import_module("streamlit.runtime.pages_manager").PagesManager
    assert isinstance(getattr(pages_manager, "uses_pages_directory", None), (bool, type(None))), (
        "PagesManager.uses_pages_directory is gone: deep links on a fresh server need another way "
        "into app.py's router (ui/streamlit_internals.py leave_legacy_pages_mode)")
    control = importlib.import_module("streamlit.runtime.scriptrunner_utils.exceptions").ScriptControlException
    assert not issubclass(control, Exception), (
        "ScriptControlException now derives from Exception: the crash guards would swallow st.rerun/st.stop")
    from streamlit.runtime.media_file_manager import MediaFileManager
    assert callable(getattr(MediaFileManager, "remove_orphaned_files", None)), (
        "MediaFileManager.remove_orphaned_files is gone: short-lived downloads would outlive the session")
    get_ctx = importlib.import_module("streamlit.runtime.scriptrunner").get_script_run_ctx
    assert get_ctx(suppress_warning=True) is None, (
        "get_script_run_ctx(suppress_warning=True) changed: ui.i18n asks it whether a session is running")
    for name in ("streamlit.error_util", "streamlit.runtime.backend_operation_handler"):
        module = importlib.import_module(name)
        assert isinstance(getattr(module, "_LOGGER", None), logging.Logger), (
            f"{name} no longer logs through its own logger: the log redaction would not apply")


def test_no_other_module_touches_streamlit_internals() -> None:
    """Only ui/streamlit_internals.py imports from streamlit.runtime."""
    offenders = []
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        if path.name == "streamlit_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {m}" for m in modules if m.startswith("streamlit.runtime")]
    assert offenders == []
