"""The served LLM's answer streams into the widget, in a real browser, and falls back cleanly when
the LLM server is stopped.

Real processes on loopback: `python -m llama_cpp.server` with the offline Gemma 3 270M and the
committed fine-tuned adapter, the Rasa server (website channel relaying the drafts), the action
server (answer service streaming through the served generator, drafts published to the session's
Redis) and the web app serving the widget to Debian's Chromium. The knowledge base is the real
corpus with the deterministic test embedder, as in test_widget_e2e.py.

What a person sees is recorded in the page by a MutationObserver: every text a draft bubble
showed, and when the final message arrived.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from knowledge.generation import resolve_adapter
from tests.integration.conftest import build_test_knowledge, stack_settings, start_servers
from tests.llm_server import llama_server, offline_model_path
from tests.services import require_service
from tests.webapp.conftest import CHROMIUM, require_chromium

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"
# The generation time limit of the action server: generous, so that the first (cold) answer of
# the 270M model has time to write a sentence on the slowest host.
LLM_TIMEOUT_S = 60.0
# A stopped server refuses the connection at once: the fallback answer comes well within this.
FALLBACK_WITHIN_S = 20.0
QUESTION = "Comment déclarer un sinistre ?"
QUESTION_AFTER_STOP = "Quel est le délai de renonciation ?"
EXTRACTIVE_NOTE = "Réponse tirée mot pour mot de nos documents."

# Records, in the page, each text a draft bubble shows and each final bot message, in order.
RECORDER = """
window.__seen = [];
new MutationObserver(() => {
  const draft = document.querySelector('.vg-draft .vg-text');
  const finals = document.querySelectorAll('.vg-msg.vg-bot:not(.vg-draft)').length;
  const last = window.__seen[window.__seen.length - 1];
  if (draft && draft.textContent && !(last && last.draft === draft.textContent)) {
    window.__seen.push({ draft: draft.textContent, at: performance.now() });
  }
  if (!last || last.finals !== finals) window.__seen.push({ finals, at: performance.now() });
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    require_chromium()
    require_service("Redis", 6379)
    model = offline_model_path()
    adapter = resolve_adapter("auto", "gemma3-270m")
    assert adapter is not None, "the committed generator adapter is missing"
    tmp = tmp_path_factory.mktemp("widget-streaming")
    variables = build_test_knowledge(tmp)
    with llama_server(model, tmp / "llm.log", n_ctx=2048, lora=adapter) as (base_url, llm):
        settings = stack_settings(
            tmp,
            advisor_database_url=f"sqlite:///{tmp / 'advisor.db'}",
            knowledge_llm_model="gemma3-270m",
            answer_drafts_url=REDIS_URL,
        )
        with pytest.MonkeyPatch.context() as patch:
            for name, value in variables.items():
                patch.setenv(name, value)
            patch.setenv("KNOWLEDGE_LLM_BASE_URL", base_url)
            patch.setenv("KNOWLEDGE_LLM_TIMEOUT_S", str(LLM_TIMEOUT_S))
            supervisor = start_servers(settings, with_webapp=True)
        try:
            yield f"http://{settings.host}:{settings.webapp_port}", llm
        finally:
            supervisor.stop()


def ask(page: Any, question: str, timeout_s: float = 90) -> tuple[Any, list[dict[str, Any]]]:
    """Ask in the widget; return the final answer's bubble and what the page saw meanwhile, up
    to the final answer's arrival (drafts) and after it (`{"late": …}`)."""
    finals = page.locator(".vg-msg.vg-bot:not(.vg-draft)")
    before = finals.count()
    page.evaluate("window.__seen = []")
    page.locator("#vg-chat-input").fill(question)
    page.locator("#vg-chat-input").press("Enter")
    deadline = time.monotonic() + timeout_s
    while finals.count() <= before:
        assert time.monotonic() < deadline, "the assistant did not answer in the widget"
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)  # anything late would show now
    seen: list[dict[str, Any]] = page.evaluate("window.__seen")
    answered = next(i for i, event in enumerate(seen) if event.get("finals", 0) > before)
    late = [{"late": event} for event in seen[answered:] if "draft" in event]
    return finals.nth(before), [*seen[:answered], *late]


def test_the_answer_streams_then_falls_back_when_the_llm_server_stops(
    stack: tuple[str, Any],
) -> None:
    from playwright.sync_api import sync_playwright

    webapp_url, llm = stack
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.goto(webapp_url + "/")
        page.locator(".vg-launcher").click()

        # Streamed: the checked sentences show in a draft bubble before the final message,
        # which replaces it; the final answer holds what the drafts showed.
        answer, seen = ask(page, QUESTION)
        drafts = [event["draft"] for event in seen if "draft" in event]
        assert drafts, f"no draft was shown before the answer: {seen}"
        assert not [event for event in seen if "late" in event], seen
        assert page.locator(".vg-draft").count() == 0
        final_text = answer.locator(".vg-text").first.inner_text()
        if answer.locator(".vg-mode").count() == 0:  # the generated answer itself
            assert final_text.startswith(drafts[-1]), (drafts, final_text)
        assert answer.locator(".vg-sources").count() == 1

        # The LLM server stops: the next answer comes from the documents, with no draft, at
        # once.
        llm.kill()
        llm.wait(timeout=10)
        started = time.monotonic()
        answer, seen = ask(page, QUESTION_AFTER_STOP)
        assert time.monotonic() - started < FALLBACK_WITHIN_S
        assert not [event for event in seen if "draft" in event or "late" in event], seen
        assert "renonciation" in answer.locator(".vg-text").first.inner_text()
        assert answer.locator(".vg-sources").count() == 1
        assert answer.locator(".vg-mode").inner_text() == EXTRACTIVE_NOTE
        context.close()
        browser.close()
