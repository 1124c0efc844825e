"""Chat widget: bundle size and first paint of the website in headless Chromium.

Bars (issue 7): the bundle ≤ 200 KB gzipped; first paint ≤ 1 s with warm servers.

The web app runs in-process (uvicorn) and stays up for the whole run (warm); the widget's socket
goes to the scripted socket.io server of the widget tests (tests/widget/fake_rasa.py), since first
paint does not depend on Rasa. Each load uses a fresh browser context (empty cache and storage),
and is timed from the navigation start with the browser's own Performance API:
- first contentful paint of the page;
- `vg-widget-ready`, the mark the widget sets once its launcher is in the page;
- connection time: from opening the chat to the session confirmed by the socket server.
The baseline, measured in the same run and alternated with it, is the same page with the widget's
script blocked: the ratio says what the widget costs the page's first paint.

    python -m benchmarks.bench_widget [--loads 30] [--screenshots docs/screenshots]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.feedback.conftest import alembic
from tests.services import free_port
from tests.webapp.conftest import CHROMIUM
from tests.webapp.fake_rasa import FakeRasa
from tests.webapp.servers import WebAppThread

BUNDLE = Path(__file__).resolve().parents[1] / "webapp" / "static" / "widget" / "widget.js"
PAINT_SCRIPT = """() => new Promise((resolve) => {
  const read = () => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const ready = performance.getEntriesByName('vg-widget-ready')[0];
    if (paint && (ready || window.__noWidget)) {
      resolve({fcp: paint.startTime, ready: ready ? ready.startTime : null});
    } else {
      setTimeout(read, 10);
    }
  };
  read();
})"""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def load(browser: Any, url: str, block_widget: bool) -> dict[str, float | None]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    if block_widget:
        page.route("**/static/widget/widget.js", lambda route: route.abort())
        page.add_init_script("window.__noWidget = true")
    page.goto(url, wait_until="commit")
    timings: dict[str, float | None] = page.evaluate(PAINT_SCRIPT)
    if not block_widget:
        start = page.evaluate("performance.now()")
        page.locator(".vg-launcher").click()
        page.wait_for_selector(".vg-chat[data-connection='online']", state="attached")
        timings["connect"] = page.evaluate("performance.now()") - start
    context.close()
    return timings


def screenshots(browser: Any, url: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(url)
    page.locator(".vg-launcher").click()

    def say(text: str, count: int) -> None:
        page.locator("#vg-chat-input").fill(text)
        page.locator("#vg-chat-input").press("Enter")
        page.wait_for_function(f"document.querySelectorAll('.vg-msg.vg-bot').length >= {count}")

    say("Que me recommandez-vous ?", 2)
    page.screenshot(path=str(folder / "widget-recommendations.png"))
    say("Quel est le délai de renonciation ?", 3)
    page.locator(".vg-msg.vg-bot").last.locator(".vg-sources summary").click()
    page.locator(".vg-msg.vg-bot").last.get_by_role("button", name="Très utile").click()
    page.wait_for_selector("text=Merci pour votre avis !")
    page.screenshot(path=str(folder / "widget-answer-sources-feedback.png"))
    context.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.goto(url)
    page.screenshot(path=str(folder / "widget-phone-closed.png"))
    page.locator(".vg-launcher").click()
    page.locator("#vg-chat-input").fill("Que me recommandez-vous ?")
    page.locator("#vg-chat-input").press("Enter")
    page.wait_for_selector(".vg-card")
    page.screenshot(path=str(folder / "widget-phone.png"))
    phone.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_widget")
    parser.add_argument("--loads", type=int, default=30, help="page loads of each kind")
    parser.add_argument("--screenshots", type=Path, help="also write the docs screenshots here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    raw = BUNDLE.read_bytes()
    gzipped = len(gzip.compress(raw, compresslevel=9))
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeRasa(free_port(), reply_delay_s=0.05)
        fake.start()
        url = f"sqlite:///{Path(tmp) / 'advisor.db'}"
        alembic(url, "upgrade", "head")
        webapp = WebAppThread(free_port(), f"http://127.0.0.1:{fake.port}", Path(tmp), url)
        webapp.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                for _ in range(3):  # warm the servers and the browser
                    load(browser, webapp.url + "/", block_widget=False)
                load_before = os.getloadavg()[0]
                with_widget, baseline = [], []
                for _ in range(args.loads):
                    with_widget.append(load(browser, webapp.url + "/", block_widget=False))
                    baseline.append(load(browser, webapp.url + "/", block_widget=True))
                load_after = os.getloadavg()[0]
                if args.screenshots:
                    screenshots(browser, webapp.url + "/", args.screenshots)
                browser.close()
        finally:
            webapp.stop()
            fake.stop()

    fcp = [float(t["fcp"] or 0) for t in with_widget]
    ready = [float(t["ready"] or 0) for t in with_widget]
    connect = [float(t["connect"] or 0) for t in with_widget]
    base = [float(t["fcp"] or 0) for t in baseline]
    print(f"Bundle: {len(raw) / 1024:.1f} KiB, {gzipped / 1024:.1f} KiB gzipped (bar 200 KB)\n")
    print(
        "| Measure (ms, from navigation start) | Median | p95 | Baseline: page without widget "
        "| Baseline median | Baseline p95 | Ratio of medians | Load average |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    load_text = f"{max(load_before, load_after):.1f} on {os.cpu_count()} CPUs"
    for name, values in (("first contentful paint", fcp), ("widget launcher ready", ready)):
        print(
            f"| {name} ({args.loads} loads) | {statistics.median(values):.0f} | {p95(values):.0f} "
            f"| first contentful paint | {statistics.median(base):.0f} | {p95(base):.0f} "
            f"| {statistics.median(values) / statistics.median(base):.2f} | {load_text} |"
        )
    print(
        f"| chat opened → session confirmed ({args.loads} opens) | "
        f"{statistics.median(connect):.0f} | {p95(connect):.0f} | — | — | — | — | {load_text} |"
    )
    return 0 if gzipped <= 200 * 1024 and p95(fcp) <= 1000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
