"""日本語 in a real browser: a Japanese browser opens the app in Japanese without ``?lang``, the sidebar
switch changes the page and the link, a copied link opens in its language, Japanese is drawn with the
installed CJK font, and no request leaves the app's host."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import settle

pytestmark = pytest.mark.e2e
WAIT_MS = 60_000


def _lang(url: str) -> str | None:
    return parse_qs(urlparse(url).query).get("lang", [None])[0]


def _heading(page, text: str) -> None:
    page.locator('[data-testid="stMainBlockContainer"] h1', has_text=text).first.wait_for(timeout=WAIT_MS)


def _font_of_heading(context, page) -> list[str]:
    """The fonts Chromium really drew the page's title with (DevTools' "Rendered Fonts"):
    ``document.fonts.check`` cannot tell, it answers true for a font that is not installed."""
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": '[data-testid="stMainBlockContainer"] h1'})
    return [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]]


def test_a_japanese_browser_gets_japanese_and_the_switch_and_link_follow(browser, server_url) -> None:
    requests: list[str] = []
    japanese = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
    english = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    for context in (japanese, english):
        context.on("request", lambda request: requests.append(request.url))
    try:
        page = japanese.new_page()
        page.goto(f"{server_url}/cohort")  # no ?lang: the browser's language
        _heading(page, "コホート")
        page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'ja'", timeout=WAIT_MS)
        assert any("CJK JP" in family for family in _font_of_heading(japanese, page))

        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("English", exact=True).click()
        _heading(page, "Cohort")
        page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'en'", timeout=WAIT_MS)
        sidebar.get_by_text("日本語", exact=True).click()
        _heading(page, "コホート")
        page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'ja'", timeout=WAIT_MS)
        # The switch writes the language first and the sidebar the rules at its end: the link is copied
        # once the run has finished (a fast click in CI read the address bar between the two).
        settle(page)
        link = page.url
        assert "exclude_concomitant_lrt" in link  # the cohort rules travel with the language

        other = english.new_page()  # the copied link, opened by someone whose browser is English
        other.goto(link)
        _heading(other, "コホート")
        assert _lang(other.url) == "ja"
    finally:
        japanese.close()
        english.close()
    host = urlparse(server_url).netloc
    elsewhere = sorted({u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                        and urlparse(u).netloc != host})
    assert requests and elsewhere == []
