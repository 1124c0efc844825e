"""`KnowledgeAdapter`: one question at a time, and a question that had to wait is answered in a
hurry (the knowledge base then skips its optional sentence selector)."""

import concurrent.futures
import threading

from actions.adapters import KnowledgeAdapter
from knowledge.interfaces import Answer


class Recorder:
    """Holds the first question until released; records each call's `hurry`."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.hurried: list[bool] = []
        self.running = 0
        self.most_at_once = 0
        self._count = threading.Lock()

    def answer(
        self, question, product=None, context_product=None, on_sentence=None, hurry=False
    ) -> Answer:
        with self._count:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.hurried.append(hurry)
        if question == "premier":
            self.entered.set()
            self.release.wait(timeout=10)
        with self._count:
            self.running -= 1
        return Answer(text=question, sources=(), mode="extractive", validated=True)


class WatchedLock:
    """A lock that says when someone found it taken."""

    def __init__(self) -> None:
        self.inner = threading.Lock()
        self.found_taken = threading.Event()

    def acquire(self, blocking: bool = True) -> bool:
        got = self.inner.acquire(blocking)
        if not got:
            self.found_taken.set()
        return got

    def release(self) -> None:
        self.inner.release()


def test_a_question_that_waited_is_answered_in_a_hurry() -> None:
    recorder = Recorder()
    adapter = KnowledgeAdapter(recorder)
    lock = WatchedLock()
    adapter._lock = lock  # type: ignore[assignment]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(adapter.answer, "premier")
        assert recorder.entered.wait(timeout=10)
        second = pool.submit(adapter.answer, "second")
        assert lock.found_taken.wait(timeout=10)  # the second question is waiting now
        recorder.release.set()
        assert first.result(timeout=10).text == "premier"
        assert second.result(timeout=10).text == "second"
    assert recorder.hurried == [False, True]
    assert recorder.most_at_once == 1
    # Alone again: no hurry.
    adapter.answer("troisième")
    assert recorder.hurried[-1] is False
