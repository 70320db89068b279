"""Load test: N concurrent browser sessions against a local server. Not a test; not run by CI.

``python -m benchmarks.load --sessions 20 --seconds 60``

Starts its own ``streamlit run app.py`` on a free 127.0.0.1 port, opens N sessions (Playwright pages,
spread over a few browser contexts of Debian's Chromium), and has each, until the time is up,
switch pages (Overview → Cohort → Survival → …) and on each page toggle the sidebar presets
"Full cohort" / "Main cohort (study)". Records per-rerun latency (click → the page's cohort caption
shows the new preset), page-switch latency, errors (``stException`` elements, timeouts), and the
server's RSS at baseline, peak, and ``--after`` seconds after every session closed. Writes
``benchmarks/results/load.json`` and prints a table. Localhost only; bounded sessions and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {"Overview": "HCC Outcomes Explorer", "Cohort": "Cohort", "Survival": "Survival by first-line regimen"}
PRESETS = ("Full cohort", "Main cohort (study)")
MAX_SESSIONS, MAX_SECONDS = 50, 600
STEP_TIMEOUT_MS = 120_000
# The cohort caption shows the new preset and no longer the old one.
CAPTION_CHANGED = """([want, old]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return false;
  const text = main.innerText;
  return text.includes(want + ' · ') && !text.includes(old + ' · ');
}"""
HEADING_IS = """(want) => {
  const h = document.querySelector('[data-testid="stMain"] h1');
  return !!h && h.innerText.trim() === want;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB (psutil if installed, else /proc/<pid>/status)."""
    try:
        import psutil  # optional
        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    except Exception:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (/proc/<pid>/stat), to tell server load from browser load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "STREAMLIT_SERVER_PORT": str(port), "STREAMLIT_SERVER_HEADLESS": "true",
           "STREAMLIT_SERVER_ADDRESS": "127.0.0.1", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not start within 60 s")


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values) + 0.5) - 1))]


class Stats:
    def __init__(self) -> None:
        self.rerun_s: list[float] = []
        self.switch_s: list[float] = []
        self.errors: list[str] = []


async def session(page, url: str, deadline: float, stats: Stats, index: int) -> None:
    from playwright.async_api import TimeoutError as PwTimeout
    sidebar = page.locator('[data-testid="stSidebar"]')
    try:
        await page.goto(url, timeout=STEP_TIMEOUT_MS)
        await page.wait_for_function(CAPTION_CHANGED, arg=[PRESETS[1], PRESETS[0]], timeout=STEP_TIMEOUT_MS)
    except PwTimeout:
        stats.errors.append(f"session {index}: first load timed out")
        return
    current, turn = PRESETS[1], index  # sessions start on different pages
    while time.monotonic() < deadline:
        title = list(PAGES)[turn % len(PAGES)]
        turn += 1
        try:
            t0 = time.perf_counter()
            await sidebar.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
            await page.wait_for_function(HEADING_IS, arg=PAGES[title], timeout=STEP_TIMEOUT_MS)
            await page.wait_for_function(CAPTION_CHANGED, arg=[current, "\u0000"], timeout=STEP_TIMEOUT_MS)
            stats.switch_s.append(time.perf_counter() - t0)
            for _ in range(2):
                if time.monotonic() >= deadline:
                    break
                want = PRESETS[0] if current == PRESETS[1] else PRESETS[1]
                t0 = time.perf_counter()
                await sidebar.get_by_role("button", name=want).click()
                await page.wait_for_function(CAPTION_CHANGED, arg=[want, current], timeout=STEP_TIMEOUT_MS)
                stats.rerun_s.append(time.perf_counter() - t0)
                current = want
                n_exc = await page.locator('[data-testid="stException"]').count()
                if n_exc:
                    stats.errors.append(f"session {index}: {n_exc} exception(s) on {title}")
        except PwTimeout:
            stats.errors.append(f"session {index}: timed out on {title}")
        except Exception as exc:  # a crashed page or browser: count it and go on
            stats.errors.append(f"session {index}: {type(exc).__name__} on {title}")
            await asyncio.sleep(1)


async def sample_rss(pid: int, samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        value = rss_mib(pid)
        if value is not None:
            samples.append(value)
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        except asyncio.TimeoutError:
            pass


async def drive(url: str, pid: int, sessions: int, seconds: float, contexts: int) -> tuple[Stats, list[float], float]:
    from playwright.async_api import async_playwright
    stats, samples, stop = Stats(), [], asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, samples, stop))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctxs = [await browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(contexts)]
        pages = [await ctxs[i % contexts].new_page() for i in range(sessions)]
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(session(pg, url, deadline, stats, i) for i, pg in enumerate(pages)))
        elapsed = time.monotonic() - started
        for c in ctxs:
            await c.close()
        await browser.close()
    stop.set()
    await sampler
    return stats, samples, elapsed


def summary(values: list[float]) -> dict[str, float | int | None]:
    return {"n": len(values), "p50_s": pct(values, 50), "p95_s": pct(values, 95),
            "max_s": max(values) if values else None,
            "mean_s": statistics.fmean(values) if values else None}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--contexts", type=int, default=4, help="browser contexts the sessions are spread over")
    ap.add_argument("--after", type=float, default=30, help="seconds to wait after the sessions close")
    ap.add_argument("--out", type=Path, default=OUT / "load.json")
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS or not 1 <= args.seconds <= MAX_SECONDS:
        ap.error(f"--sessions must be 1..{MAX_SESSIONS} and --seconds 1..{MAX_SECONDS}")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (apt-get install -y chromium)")
    OUT.mkdir(exist_ok=True)
    port = _free_port()
    proc = start_server(port, OUT / "load_server.log")
    try:
        time.sleep(2)
        baseline, cpu0 = rss_mib(proc.pid), cpu_seconds(proc.pid)
        stats, samples, elapsed = asyncio.run(
            drive(f"http://127.0.0.1:{port}/", proc.pid, args.sessions, args.seconds, max(1, args.contexts)))
        closed_peak = max(samples) if samples else None
        cpu1 = cpu_seconds(proc.pid)
        server_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        time.sleep(args.after)
        after = rss_mib(proc.pid)
        alive = proc.poll() is None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = {
        "sessions": args.sessions, "seconds": args.seconds, "contexts": args.contexts, "elapsed_s": elapsed,
        "rerun": summary(stats.rerun_s), "page_switch": summary(stats.switch_s),
        "reruns_per_s": len(stats.rerun_s) / elapsed if elapsed else None,
        "server_cpu_s": server_cpu, "server_cpu_share_of_one_core": server_cpu / elapsed if server_cpu and elapsed else None,
        "errors": len(stats.errors), "error_samples": stats.errors[:20], "server_alive_at_end": alive,
        "rss_mib": {"baseline": baseline, "peak": closed_peak, f"after_{int(args.after)}s": after},
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
    print(f"{args.sessions} sessions × {args.seconds:.0f} s ({elapsed:.0f} s), {args.contexts} browser contexts")
    print(f"{'':14}{'n':>6}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    for label, key in (("rerun", "rerun"), ("page switch", "page_switch")):
        s = result[key]
        print(f"{label:14}{s['n']:>6}{fmt(s['p50_s']):>9}{fmt(s['p95_s']):>9}{fmt(s['max_s']):>9}")
    print(f"server CPU {fmt(server_cpu)} s over {elapsed:.0f} s (the browser shares the machine)")
    print(f"errors {len(stats.errors)}; server RSS MiB: baseline {fmt(baseline)}, peak {fmt(closed_peak)}, "
          f"{int(args.after)} s after close {fmt(after)}")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return result


if __name__ == "__main__":
    main()
