"""Figures and slides as a browser draws them, measured from bounding boxes (one server, one browser).

For every figure on every page at 1440×1000, and for every slide of every page in presentation mode
at 1280×720 and 1920×1080: no legend overlaps the title/subtitle or the plot area, no text of a
figure is drawn outside the figure's box nor outside the shape box it is centred in (the flow
diagram's boxes), no table is wider than its screen, and the first result (a figure, table or key
number, whichever comes first; presentation: every slide) lies within the first screen. Every request the browser makes
on the way goes to the app's own host (offline use: no icon font, web font or script from a CDN).
Screenshots of every presentation screen: tests/e2e/artifacts/present_*.png.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import ARTIFACTS, next_slide, settle
from ui.common import PAGES
from ui.present import EXIT, NEXT

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000
SLACK_PX = 2  # sub-pixel rounding of text boxes
NO_FIGURE_PAGES = ("pages/overview.py", "pages/data.py", "pages/export.py")  # outside presentation mode
NO_RESULT_PAGES = ("pages/data.py", "pages/export.py")  # an upload form; download buttons

# Per visible plotly figure: its box, title, legends, plot areas, and the texts drawn outside the box.
_MEASURE = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(visible).map((plot) => {
    const outer = box(plot.querySelector('.svg-container') || plot);
    const outside = Array.from(plot.querySelectorAll('svg text')).filter(visible).filter((t) => {
      const [l, tp, r, b] = box(t);
      return l < outer[0] - %(s)d || tp < outer[1] - %(s)d || r > outer[2] + %(s)d || b > outer[3] + %(s)d;
    }).map((t) => t.textContent.slice(0, 60));
    const title = plot.querySelector('.g-gtitle text');
    // Boxes drawn as shapes (the flow diagram's): each annotation whose centre lies in one must fit in it.
    const rects = Array.from(plot.querySelectorAll('.shapelayer path')).filter(visible).map(box)
      .filter(([l, tp, r, b]) => r - l > 10 && b - tp > 10);
    let homed = 0;
    const spilling = Array.from(plot.querySelectorAll('g.annotation text')).filter(visible).flatMap((t) => {
      const [l, tp, r, b] = box(t);
      const [cx, cy] = [(l + r) / 2, (tp + b) / 2];
      const home = rects.filter((q) => q[0] <= cx && cx <= q[2] && q[1] <= cy && cy <= q[3]);
      if (!home.length) return [];
      homed += 1;
      const fits = home.some((q) => l >= q[0] - %(s)d && tp >= q[1] - %(s)d && r <= q[2] + %(s)d && b <= q[3] + %(s)d);
      return fits ? [] : [t.textContent.slice(0, 60)];
    });
    return {
      box: outer,
      title: title && visible(title) ? box(title) : null,
      titleText: title ? title.textContent.slice(0, 80) : '',
      legends: Array.from(plot.querySelectorAll('g.legend')).filter(visible).map(box),
      plots: Array.from(plot.querySelectorAll('.draglayer .nsewdrag')).filter(visible).map(box),
      outside: outside,
      boxed: homed,
      spilling: spilling,
    };
  });
}""" % {"s": SLACK_PX}

_TABLES = """() => Array.from(document.querySelectorAll('[data-testid="stTable"] table'))
  .filter((t) => t.getBoundingClientRect().width > 0)
  .map((t) => ({width: t.getBoundingClientRect().right, font: parseFloat(getComputedStyle(t.querySelector('td')).fontSize)}))"""


# The page's first result in reading order: a figure, a table or a key number (st.metric), whichever comes first.
_FIRST_RESULT = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const first = Array.from(main.querySelectorAll(
      '.js-plotly-plot, [data-testid="stTable"], [data-testid="stDataFrame"], [data-testid="stMetric"]'))
    .find((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  if (!first) return null;
  const r = first.getBoundingClientRect();
  return {kind: first.dataset.testid || 'figure', box: [r.left, r.top, r.right, r.bottom]};
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] - SLACK_PX and b[0] < a[2] - SLACK_PX and a[1] < b[3] - SLACK_PX and b[1] < a[3] - SLACK_PX


def _check_figures(figures: list[dict], where: str) -> None:
    for fig in figures:
        name = f"{where}: {fig['titleText']!r}"
        assert not fig["outside"], f"{name}: text drawn outside the figure: {fig['outside']}"
        assert not fig["spilling"], f"{name}: text runs out of its box: {fig['spilling']}"
        for legend in fig["legends"]:
            if fig["title"] is not None:
                assert not _overlap(legend, fig["title"]), f"{name}: legend over the title"
            for area in fig["plots"]:
                assert not _overlap(legend, area), f"{name}: legend over the plot"


def _url(server_url: str, path: str, present: bool) -> str:
    spec = next(p for p in PAGES if p.path == path)
    return f"{server_url}/{'' if spec.default else spec.url_path}{'?present=1' if present else ''}"


@pytest.fixture(scope="module")
def recorded(browser, server_url):
    """One context for the whole module; every request it makes is recorded."""
    requests: list[str] = []
    return browser, requests


def _context(recorded, width: int, height: int):
    browser, requests = recorded
    context = browser.new_context(viewport={"width": width, "height": height})
    context.on("request", lambda request: requests.append(request.url))
    return context


@pytest.mark.parametrize("path", [p.path for p in PAGES])
def test_every_figure_on_every_page_at_1440(recorded, server_url, path) -> None:
    context = _context(recorded, 1440, 1000)
    try:
        page = context.new_page()
        page.goto(_url(server_url, path, present=False))
        page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for(timeout=WAIT_MS)
        settle(page)
        if path not in NO_FIGURE_PAGES:  # the pages with figures: wait for the first drawn
            page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=WAIT_MS)
            settle(page)
        figures = page.evaluate(_MEASURE)
        _check_figures(figures, path)
        assert figures or path in NO_FIGURE_PAGES, f"{path}: no figure was measured"
        if path == "pages/cohort.py":  # the flow diagram's texts were found in their boxes, so checked against them
            assert figures[0]["boxed"] >= 3, figures[0]
        if figures:  # the first figure can be seen whole: no taller than the screen
            top, bottom = figures[0]["box"][1], figures[0]["box"][3]
            assert bottom - top <= 1000, (path, bottom - top)
        first = page.evaluate(_FIRST_RESULT)  # and the first result is on the first screen, without scrolling
        assert first is not None or path in NO_RESULT_PAGES, f"{path}: no result on the page"
        if first is not None:
            left, top, right, bottom = first["box"]
            assert 0 <= top and bottom <= 1000 + SLACK_PX and right <= 1440 + SLACK_PX, (path, first)
        for table in page.evaluate(_TABLES):
            assert table["width"] <= 1440 + SLACK_PX, (path, table)
        page.screenshot(path=ARTIFACTS / f"layout_1440_{path.split('/')[-1][:-3]}.png")
    finally:
        context.close()


#: The presentation screens every slide is measured on. The server draws a slide the same for every
#: screen (the figure heights are fixed, the width follows the browser), so one walk through the slides
#: measures each at every size by resizing the window, not by walking again.
SCREENS = ((1280, 720), (1920, 1080))

# Every figure redrawn at the window's width after a resize (Plotly follows its chart element).
_REFLOWED = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).every((p) => {
  const chart = p.closest('[data-testid="stPlotlyChart"]'), svg = p.querySelector('.main-svg');
  if (!chart || chart.getBoundingClientRect().width === 0) return true;
  return svg && Math.abs(svg.getBoundingClientRect().width - chart.getBoundingClientRect().width) <= 2;
})"""


def _steady(page, script: str):
    """``script``'s result once two readings 150 ms apart agree (a figure still drawing changes it)."""
    last = page.evaluate(script)
    for _ in range(40):
        page.wait_for_timeout(150)
        now = page.evaluate(script)
        if now == last:
            return now
        last = now
    return last


def _check_slide(page, width: int, height: int, where: str) -> None:
    """One slide at one screen size: nothing to scroll, one result, figures laid out, tables legible."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(_REFLOWED, timeout=WAIT_MS)
    figures = _steady(page, _MEASURE)
    tables = page.evaluate(_TABLES)
    assert page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight") <= height, where
    assert page.evaluate("document.scrollingElement.scrollHeight") <= height, where
    assert len(figures) + len(tables) == 1, where
    _check_figures(figures, where)
    for fig in figures:
        assert fig["box"][3] <= height and fig["box"][2] <= width + SLACK_PX, (where, fig["box"])
    for table in tables:
        assert table["width"] <= width + SLACK_PX and table["font"] >= 18, (where, table)


def test_every_presentation_screen_fits(recorded, server_url) -> None:
    """Every slide of every page, at 1280×720 and at 1920×1080: fits the screen (nothing to scroll),
    figures laid out without overlap, tables in >= 18-px text and no wider than the screen. Steps with
    the arrow key."""
    first_width, first_height = SCREENS[0]
    context = _context(recorded, first_width, first_height)
    seen = 0
    try:
        page = context.new_page()
        for spec in PAGES:
            page.goto(_url(server_url, spec.path, present=True))
            counter = page.locator(".st-key-hcc_slide_counter")
            counter.wait_for(timeout=WAIT_MS)
            while True:
                settle(page)
                page.wait_for_function("""() => Array.from(document.querySelectorAll(
                    '.js-plotly-plot .main-svg, [data-testid="stTable"] table')).some(
                    (e) => e.getBoundingClientRect().height > 0)""", timeout=WAIT_MS)  # the slide's result drawn
                text = counter.inner_text()
                index, total = map(int, re.match(r"(\d+) / (\d+)", text).groups())
                for width, height in SCREENS:
                    _check_slide(page, width, height, f"{spec.path} {width}x{height} slide {text}")
                    if index == 1 or os.environ.get("HCC_ALL_SLIDE_SHOTS"):  # every slide is measured; one picture a page
                        page.screenshot(path=ARTIFACTS / f"present_{width}_{spec.url_path}_{index}.png")
                page.set_viewport_size({"width": first_width, "height": first_height})
                seen += 1
                if index == total:
                    break
                next_slide(page, text)
    finally:
        context.close()
    assert seen >= 2 * len(PAGES)


def test_keys_step_across_pages_and_escape_leaves(recorded, server_url) -> None:
    """Past the Data page's only slide, → opens the next page's first slide; ← goes back; Esc leaves
    presentation mode (the sidebar and the page title return)."""
    context = _context(recorded, 1280, 720)
    try:
        page = context.new_page()
        page.goto(_url(server_url, "pages/data.py", present=True))
        counter = page.locator(".st-key-hcc_slide_counter")
        counter.wait_for(timeout=WAIT_MS)
        settle(page)
        assert counter.inner_text().startswith("1 / 1 · Data loaded")
        page.keyboard.press("ArrowRight")
        page.wait_for_url(re.compile(r"/export"), timeout=WAIT_MS)
        page.wait_for_function("() => (document.querySelector('.st-key-hcc_slide_counter') || {}).innerText?.startsWith('1 / ')",
                               timeout=WAIT_MS)
        settle(page)
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => (document.querySelector('.st-key-hcc_slide_counter') || {}).innerText?.startsWith('2 / ')",
                               timeout=WAIT_MS)
        settle(page)
        page.keyboard.press("Escape")
        page.get_by_role("heading", name="Report & slides").wait_for(timeout=WAIT_MS)
        page.locator('[data-testid="stSidebar"]').wait_for(state="visible", timeout=WAIT_MS)  # its CSS is gone
        settle(page)
        assert page.locator(".st-key-hcc_slide_counter").count() == 0
        assert "present=1" not in page.url
        assert page.get_by_role("button", name=EXIT).count() == 0 and page.get_by_role("button", name=NEXT).count() == 0
    finally:
        context.close()


def test_no_request_left_the_apps_host(recorded, server_url) -> None:
    """Everything the browser fetched in this module (every page, normal and presenting; when run
    alone, every page once each way) came from the app's own host."""
    _, requests = recorded
    if not any("?present=1" in u for u in requests):  # run on its own: visit every page both ways
        context = _context(recorded, 1280, 720)
        try:
            page = context.new_page()
            for spec in PAGES:
                for present in (False, True):
                    page.goto(_url(server_url, spec.path, present))
                    page.locator(".st-key-hcc_slide_counter" if present else '[data-testid="stMainBlockContainer"] h1'
                                 ).first.wait_for(timeout=WAIT_MS)
                    settle(page)
        finally:
            context.close()
    host = urlparse(server_url).netloc
    elsewhere = sorted({u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                        and urlparse(u).netloc != host})
    assert len(requests) > 50, "the browser's requests were recorded"
    assert any(u.endswith("/_stcore/stream") or "/_stcore/" in u for u in requests)
    assert elsewhere == [], f"requests left the app's host: {elsewhere}"
