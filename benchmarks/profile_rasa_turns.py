"""Where the Rasa server's time goes in a turn: the bench_turns journey played in-process.

Loads the trained model into a Rasa `Agent` in this process (no HTTP in front of it), plays the
journey of `benchmarks.bench_turns` one conversation at a time and times, per turn: Rasa's
message handling, each node of the model's graph (NLU components, policies), the tracker store's
reads and writes, and every custom action call (by action, waiting for the action server
included). One conversation at a time, so the figures are costs, not queueing.

Runs in the Rasa environment, against a running action server (`make run` starts one on
port 5055):

    .venv-rasa/bin/python -m benchmarks.profile_rasa_turns \\
        [--actions-url http://127.0.0.1:5055/webhook] [--model models/current.tar.gz] \\
        [--tracker-store caching|rasa] [--conversations 3] [--per-message]

`--tracker-store rasa` uses Rasa's own `SQLTrackerStore` instead of the project's
`bot.tracker_store.CachingSQLTrackerStore` (both on a temporary SQLite file).
"""

import argparse
import asyncio
import collections
import functools
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# One thread per TensorFlow pool, as the stack starts the Rasa server (stack/services.py).
for _name in ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"):
    os.environ.setdefault(_name, "1")

import rasa.core.actions.action as rasa_actions  # noqa: E402
import rasa.core.processor as rasa_processor  # noqa: E402
import rasa.engine.graph as rasa_graph  # noqa: E402
from rasa.core.agent import Agent  # noqa: E402
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage  # noqa: E402
from rasa.core.lock_store import InMemoryLockStore  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402

from benchmarks.journey import SCRIPT  # noqa: E402
from bot.tracker_store import CachingSQLTrackerStore  # noqa: E402


class Timings:
    """Seconds and calls per label over the run."""

    def __init__(self) -> None:
        self.total: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()

    def add(self, label: str, seconds: float) -> None:
        self.total[label] += seconds
        self.calls[label] += 1

    def wrap(
        self, owner: Any, name: str, label: str, per_instance: Callable[[Any], str] | None = None
    ) -> None:
        """Times the method `owner.name` (a coroutine function or a plain one) under `label`,
        followed by `per_instance(the instance called)` when given."""
        original = getattr(owner, name)

        def label_of(instance: Any) -> str:
            return label + (per_instance(instance) if per_instance else "")

        if asyncio.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(instance: Any, *args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(instance, *args, **kwargs)
                finally:
                    self.add(label_of(instance), time.perf_counter() - started)

            setattr(owner, name, timed_async)
        else:

            @functools.wraps(original)
            def timed(instance: Any, *args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return original(instance, *args, **kwargs)
                finally:
                    self.add(label_of(instance), time.perf_counter() - started)

            setattr(owner, name, timed)


def instrument(timings: Timings) -> None:
    processor = rasa_processor.MessageProcessor
    for name in ("handle_message", "parse_message", "_run_prediction_loop", "_run_action"):
        timings.wrap(processor, name, f"processor.{name}")
    timings.wrap(processor, "_predict_next_with_tracker", "processor.predict_next_action")
    for store in (SQLTrackerStore, CachingSQLTrackerStore):
        timings.wrap(store, "retrieve", "tracker store: retrieve")
        timings.wrap(store, "save", "tracker store: save")
    remote = rasa_actions.RemoteAction
    timings.wrap(remote, "_validate_action_result", "custom actions: response schema check")
    timings.wrap(remote, "_action_call_format", "custom actions: tracker serialisation")
    timings.wrap(remote, "run", "custom action: ", lambda action: action.name())
    timings.wrap(rasa_graph.GraphNode, "__call__", "graph node: ", lambda node: node._node_name)


async def profile(args: argparse.Namespace) -> None:
    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'tracker.db'}"
        store_class = CachingSQLTrackerStore if args.tracker_store == "caching" else SQLTrackerStore
        store = store_class(domain, "sqlite", host=url)
        agent = Agent(
            tracker_store=store,
            lock_store=InMemoryLockStore(),
            action_endpoint=EndpointConfig(url=args.actions_url),
        )
        agent.load_model(str(args.model))
        script = SCRIPT
        timings = Timings()
        instrument(timings)
        per_message: dict[int, list[float]] = collections.defaultdict(list)

        async def conversation(sender: str) -> None:
            for index, text in enumerate(script):
                started = time.perf_counter()
                await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
                per_message[index].append((time.perf_counter() - started) * 1000)

        await conversation("warm-up")  # loads lazy code paths; not counted
        timings.total.clear()
        timings.calls.clear()
        per_message.clear()
        for number in range(args.conversations):
            await conversation(f"profile-{number}")
    turns = args.conversations * len(script)
    print(f"{turns} turns, tracker store: {store_class.__name__}")
    print("| ms per turn | calls per turn | what |\n|---|---|---|")
    for label, seconds in sorted(timings.total.items(), key=lambda item: -item[1]):
        if seconds * 1000 / turns >= 0.1:
            print(
                f"| {seconds * 1000 / turns:.1f} | {timings.calls[label] / turns:.2f} | {label} |"
            )
    if args.per_message:
        print("\n| median ms | message |\n|---|---|")
        for index, values in sorted(per_message.items()):
            print(f"| {sorted(values)[len(values) // 2]:.1f} | {script[index]} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_rasa_turns", description=__doc__
    )
    parser.add_argument("--actions-url", default="http://127.0.0.1:5055/webhook")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "current.tar.gz")
    parser.add_argument("--tracker-store", choices=("caching", "rasa"), default="caching")
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--per-message", action="store_true")
    args = parser.parse_args(argv)
    if not args.model.exists():
        sys.exit(f"no model at {args.model}: run `make train` first")
    asyncio.run(profile(args))


if __name__ == "__main__":
    main()
