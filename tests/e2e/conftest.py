"""Browser tests: a real `streamlit run app.py` on a free localhost port, driven by Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _streamlit_server(log_name: str):
    """``streamlit run app.py`` on a free localhost port; yields its URL, stops it afterwards."""
    port = _free_port()
    env = {**os.environ, "STREAMLIT_SERVER_PORT": str(port), "STREAMLIT_SERVER_HEADLESS": "true",
           "STREAMLIT_SERVER_ADDRESS": "127.0.0.1", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "PYTHONUNBUFFERED": "1"}  # the server log is on disk as it happens (test_isolation reads it)
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def server_url():
    """One server shared by the journeys (its log: artifacts/server.log)."""
    with _streamlit_server("server.log") as url:
        yield url


@pytest.fixture()
def fresh_server_url():
    """A server that has served nothing yet (for first-request behaviour)."""
    with _streamlit_server("fresh_server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def upload_on_data_page(page, server_url: str, path) -> None:
    """Open the Data page, wait until it has run once (its session is connected), attach ``path`` to
    the registry uploader (the first of the page's uploaders)."""
    page.goto(f"{server_url}/data")
    page.get_by_role("heading", name="Synthetic demo registry (not real patients)").wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))


def download(page, button, attempts: int = 3, timeout_ms: int = 30_000) -> Path:
    """Click a download ``button`` (a locator) and return the downloaded file's path.

    A click that lands while the page is rerunning hits a button about to be replaced and starts no
    download; such a click is retried."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    button.wait_for(state="visible", timeout=60_000)
    for attempt in range(attempts):
        try:
            with page.expect_download(timeout=timeout_ms) as started:
                button.click()
            return Path(started.value.path())
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


#: How long a browser step may wait for the app under load.
STEP_WAIT_MS = 90_000


def settle(page) -> None:
    """Wait until Streamlit has finished the run: nothing stale, the figures drawn, for a moment."""
    page.wait_for_function("""() => !document.querySelector('[data-stale="true"]')
        && !document.querySelector('[data-testid="stSkeleton"]')
        && !document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')""",
                           timeout=STEP_WAIT_MS)
    page.wait_for_timeout(700)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=STEP_WAIT_MS)


def next_slide(page, text: str) -> None:
    """Press → and wait for the counter to change; a press that lands while the page is rerunning
    can be dropped with the button it clicked, so it is pressed again (at most three times)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    changed = "(t) => { const c = document.querySelector('.st-key-hcc_slide_counter'); return c && c.innerText !== t; }"
    for attempt in range(3):
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function(changed, arg=text, timeout=STEP_WAIT_MS // 3)
            return
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            settle(page)
