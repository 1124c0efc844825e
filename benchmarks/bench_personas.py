"""Persona suite (issue 16): a user simulator plays each persona of `benchmarks/personas/` over the
REST channel of the real servers, then judges the conversation against the persona's expectations.

The servers are started as `benchmarks.bench_turns` starts them (`models/current.tar.gz` as it is,
SQLite tracker and lead stores in a temporary folder, extractive answers). For each persona the
simulator sends the `opening`; then, after each reply, it reads the form's `requested_slot` from
the tracker (Rasa HTTP API, token in a header: common/rasa_api.py) and types `consent` for the
consent question, `answers[slot]` for a profile question, `default` for one it has no answer for.
It types buttons as a person would: "oui" to a yes/no question (a `/affirm` button: the summary's
"Est-ce exact ?"); when the opening did not start the needs discovery (a failure), it asks for it
once, typing the title of the button that starts it, so that the rest can still be measured. It
stops at the first `recommendations` payload, at the advisor proposal for a special situation
(`handoff_reason` = `special_situation`), when the same question comes a third time in a row, when
the bot asks nothing more, or at the turn limit.

A persona passes when: the opening leads to the consent question; the first recommendation's top
three hold every `top3_include` category; no recommendation holds a `never` category; the advisor
proposal comes exactly when `advisor_routing` says; after a refused consent, no recommendation is
made and no profile fact is stored. Figures per persona: questions before the first
recommendation (distinct profile questions, consent excluded), turns (messages typed), time.

The held-out split is reported as figures only, never per persona (benchmarks/personas/README.md).

    python -m benchmarks.bench_personas [--split dev|heldout|all] [--only ID ...] [--json]
"""

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml

from benchmarks.bench_turns import assistant_settings
from common.rasa_api import auth_headers, rest_conversation_id, rest_headers, tracker_url
from stack.services import action_service, rasa_service
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Supervisor

PERSONAS_DIR = PROJECT_ROOT / "benchmarks" / "personas"
HELDOUT = "heldout"
SPLITS = ("dev", HELDOUT)
TURN_LIMIT = 40
ASKS_BEFORE_GIVING_UP = 3  # the same question this many times in a row: not understood
YES = "oui"
AFFIRM_PAYLOAD = "/affirm"
START_DISCOVERY_PAYLOAD = "/request_recommendation"
START_DISCOVERY_TEXT = "Je voudrais faire le point sur mes besoins"  # when no button offers it
SPECIAL_SITUATION = "special_situation"
CONSENT_SLOT = "consent"
RECOMMENDATIONS_TYPE = "recommendations"
TOP = 3

# Why the simulator stopped playing.
STOP_RECOMMENDATION = "first recommendation"
STOP_ADVISOR = "advisor proposal"
STOP_NOT_UNDERSTOOD = "question not understood"
STOP_TURN_LIMIT = "turn limit"
STOP_NOTHING_ASKED = "nothing more asked"

SUMMARY_HEADER = (
    "| Split | Personas | Passed | Pass rate | With a recommendation | Questions before the first "
    "recommendation (median / max) | Turns (median) | Time per persona (median, s) |\n"
    "|---|---|---|---|---|---|---|---|"
)
PERSONA_HEADER = (
    "| Persona | Result | Questions | Turns | Time (s) | Reasons |\n|---|---|---|---|---|---|"
)


class PersonaError(ValueError):
    """A persona file does not follow benchmarks/personas/README.md."""


@dataclasses.dataclass(frozen=True)
class Expectation:
    top3_include: tuple[str, ...]
    never: tuple[str, ...]
    advisor_routing: bool
    refused_consent: bool


@dataclasses.dataclass(frozen=True)
class Persona:
    id: str
    opening: str
    consent: str
    answers: Mapping[str, str]
    default: str
    expect: Expectation
    tags: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "Persona":
        try:
            expect = data["expect"]
            return cls(
                id=str(data["id"]),
                opening=str(data["opening"]),
                consent=str(data["consent"]),
                answers={str(slot): str(text) for slot, text in (data["answers"] or {}).items()},
                default=str(data["default"]),
                expect=Expectation(
                    top3_include=tuple(expect["top3_include"] or ()),
                    never=tuple(expect["never"] or ()),
                    advisor_routing=bool(expect["advisor_routing"]),
                    refused_consent=bool(expect["refused_consent"]),
                ),
                tags=tuple(data.get("tags") or ()),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise PersonaError(f"persona {data.get('id', '?')!r}: {error!r}") from error


def load_personas(split: str, directory: Path = PERSONAS_DIR) -> list[Persona]:
    """The personas of one split (`dev` or `heldout`), in file order."""
    data = yaml.safe_load((directory / f"{split}.yml").read_text(encoding="utf-8"))
    personas = [Persona.from_data(item) for item in data]
    ids = [persona.id for persona in personas]
    if len(set(ids)) != len(ids) or any(not id_.startswith(f"{split}-") for id_ in ids):
        raise PersonaError(f"{split}.yml: ids must be unique and start with {split!r}-")
    return personas


def profile_slots(root: Path = PROJECT_ROOT) -> frozenset[str]:
    """The profile facts: the needs-discovery form's slots in domain.yml, consent excepted."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    required = domain["forms"]["needs_discovery_form"]["required_slots"]
    return frozenset(required) - {CONSENT_SLOT}


# --- what the simulator saw -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Turn:
    """One message typed and what followed: the bot's messages and the tracker's state after."""

    message: str
    answered: str | None  # the slot this message answered; None for the opening or a button
    replies: tuple[Mapping[str, Any], ...]
    requested_slot: str | None
    consent: bool | None
    handoff_reason: str | None
    facts: tuple[str, ...]  # profile slots holding a value after this turn

    @classmethod
    def observe(
        cls,
        message: str,
        answered: str | None,
        replies: Sequence[Mapping[str, Any]],
        tracker: Mapping[str, Any],
        facts: Iterable[str],
    ) -> "Turn":
        slots = tracker.get("slots") or {}
        return cls(
            message=message,
            answered=answered,
            replies=tuple(replies),
            requested_slot=slots.get("requested_slot"),
            consent=slots.get(CONSENT_SLOT),
            handoff_reason=slots.get("handoff_reason"),
            facts=tuple(sorted(slot for slot in facts if slots.get(slot) is not None)),
        )

    def recommendations(self) -> list[list[str]]:
        """The categories of each `recommendations` payload of this turn, in rank order."""
        found = []
        for reply in self.replies:
            custom = reply.get("custom")
            if isinstance(custom, Mapping) and custom.get("type") == RECOMMENDATIONS_TYPE:
                found.append([str(item.get("category")) for item in custom.get("items") or ()])
        return found

    def button_payloads(self) -> dict[str, str]:
        """Payload → title of the buttons the bot offered in this turn."""
        return {
            str(button.get("payload")): str(button.get("title"))
            for reply in self.replies
            for button in reply.get("buttons") or ()
        }


@dataclasses.dataclass
class Transcript:
    persona_id: str
    turns: list[Turn] = dataclasses.field(default_factory=list)
    stopped: str = ""
    seconds: float = 0.0
    error: str | None = None  # an HTTP failure that ended the conversation


# --- playing ------------------------------------------------------------------------------------


class Channel(Protocol):
    """The REST channel and the tracker of a running Rasa server."""

    def say(self, sender: str, message: str) -> list[dict[str, Any]]: ...

    def tracker(self, sender: str) -> dict[str, Any]: ...


class RestChannel:
    """`Channel` over HTTP: the REST webhook (its bearer token) and the tracker (a JWT), both in a
    header. The REST channel keeps the conversation of `sender` under `rest:<sender>`."""

    def __init__(
        self, base_url: str, jwt_secret: str, rest_token: str, client: httpx.Client | None = None
    ) -> None:
        self.base_url = base_url
        self.jwt_secret = jwt_secret
        self.rest_token = rest_token
        self.client = client or httpx.Client(timeout=120)

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = self.client.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=rest_headers(self.rest_token),
        )
        response.raise_for_status()
        replies: list[dict[str, Any]] = response.json()
        return replies

    def tracker(self, sender: str) -> dict[str, Any]:
        conversation = rest_conversation_id(sender)
        response = self.client.get(
            tracker_url(self.base_url, conversation),
            headers=auth_headers(self.jwt_secret, conversation),
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker


def next_message(persona: Persona, turns: Sequence[Turn]) -> tuple[str, str | None] | str:
    """What the person types next and the slot it answers, or why they stop."""
    last = turns[-1]
    if last.recommendations():
        return STOP_RECOMMENDATION
    if any(turn.handoff_reason == SPECIAL_SITUATION for turn in turns):
        return STOP_ADVISOR
    if len(turns) >= TURN_LIMIT:
        return STOP_TURN_LIMIT
    slot = last.requested_slot
    if slot is not None:
        recent = turns[-ASKS_BEFORE_GIVING_UP:]
        if len(recent) == ASKS_BEFORE_GIVING_UP and all(t.requested_slot == slot for t in recent):
            return STOP_NOT_UNDERSTOOD
        if slot == CONSENT_SLOT:
            return persona.consent, slot
        return persona.answers.get(slot, persona.default), slot
    buttons = last.button_payloads()
    if AFFIRM_PAYLOAD in buttons:
        return YES, None
    if len(turns) == 1:
        # The opening did not start the discovery (a failure, see `judge`): the person asks for it
        # once, with the button that starts it, so that the rest can still be measured.
        return buttons.get(START_DISCOVERY_PAYLOAD, START_DISCOVERY_TEXT), None
    return STOP_NOTHING_ASKED


def play(
    persona: Persona,
    channel: Channel,
    facts: Iterable[str],
    clock: Callable[[], float] = time.perf_counter,
) -> Transcript:
    """One conversation of `persona`, from its opening to a stop (see `next_message`)."""
    sender = f"persona-{persona.id}-{uuid.uuid4().hex[:8]}"
    facts = frozenset(facts)
    transcript = Transcript(persona.id)
    started = clock()
    message: str = persona.opening
    answered: str | None = None
    while True:
        try:
            replies = channel.say(sender, message)
            tracker = channel.tracker(sender)
        except httpx.HTTPError as error:
            transcript.error = f"{type(error).__name__}: {error}"
            transcript.stopped = "HTTP error"
            break
        transcript.turns.append(Turn.observe(message, answered, replies, tracker, facts))
        decision = next_message(persona, transcript.turns)
        if isinstance(decision, str):
            transcript.stopped = decision
            break
        message, answered = decision
    transcript.seconds = clock() - started
    return transcript


# --- judging ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verdict:
    persona_id: str
    passed: bool
    reasons: tuple[str, ...]
    questions: int | None  # distinct profile questions before the first recommendation
    asks: int | None  # profile question turns before it, repeats included
    turns: int
    seconds: float
    stopped: str


def questions_before(turns: Sequence[Turn]) -> tuple[int, int]:
    """Distinct profile questions and profile question turns among `turns` (consent excluded)."""
    asked = [t.requested_slot for t in turns if t.requested_slot not in (None, CONSENT_SLOT)]
    return len(set(asked)), len(asked)


def judge(persona: Persona, transcript: Transcript) -> Verdict:
    """Whether the conversation met the persona's expectations, with the reasons it did not."""
    expect = persona.expect
    turns = transcript.turns
    reasons: list[str] = []
    if transcript.error:
        reasons.append(f"the conversation failed: {transcript.error}")
    if turns and turns[0].requested_slot != CONSENT_SLOT:
        reasons.append("the opening did not start the discovery (no consent question)")

    first_index = next((i for i, turn in enumerate(turns) if turn.recommendations()), None)
    recommendations = [rec for turn in turns for rec in turn.recommendations()]
    questions: int | None = None
    asks: int | None = None
    if first_index is not None:
        questions, asks = questions_before(turns[:first_index])
        top = recommendations[0][:TOP]
        missing = [category for category in expect.top3_include if category not in top]
        if missing:
            reasons.append(
                f"expected in the top three, missing: {', '.join(missing)} "
                f"(top three: {', '.join(top) or 'none'})"
            )
    recommended = {category for rec in recommendations for category in rec}
    forbidden = sorted(recommended & set(expect.never))
    if forbidden:
        reasons.append(f"recommended a category it must never get: {', '.join(forbidden)}")

    routed = any(turn.handoff_reason == SPECIAL_SITUATION for turn in turns)
    if expect.advisor_routing and not routed:
        reasons.append("no advisor proposal for the special situation")
    if routed and not expect.advisor_routing:
        reasons.append("unexpected advisor proposal for a special situation")

    consents = [turn.consent for turn in turns if turn.consent is not None]
    if expect.refused_consent:
        if True in consents:
            reasons.append("the refusal was read as consent")
        if recommendations:
            reasons.append("recommendation after a refused consent")
        stored = sorted({fact for turn in turns for fact in turn.facts})
        if stored:
            reasons.append(f"profile facts stored after a refused consent: {', '.join(stored)}")
    else:
        if False in consents:
            reasons.append("the consent was read as a refusal")
        if not expect.advisor_routing and first_index is None:
            reasons.append(f"no recommendation (stopped: {transcript.stopped})")
    if transcript.stopped == STOP_NOT_UNDERSTOOD:
        slot = turns[-1].requested_slot
        reasons.append(f"{slot} asked {ASKS_BEFORE_GIVING_UP} times in a row")

    return Verdict(
        persona_id=persona.id,
        passed=not reasons,
        reasons=tuple(reasons),
        questions=questions,
        asks=asks,
        turns=len(turns),
        seconds=round(transcript.seconds, 2),
        stopped=transcript.stopped,
    )


@dataclasses.dataclass(frozen=True)
class SplitSummary:
    split: str
    personas: int
    passed: int
    pass_rate: float
    with_recommendation: int
    questions_median: float | None
    questions_max: int | None
    turns_median: float
    seconds_median: float
    errors: int


def summarize(split: str, verdicts: Sequence[Verdict], errors: int = 0) -> SplitSummary:
    """One split's figures; questions are over the personas that reached a recommendation."""
    questions = [v.questions for v in verdicts if v.questions is not None]
    return SplitSummary(
        split=split,
        personas=len(verdicts),
        passed=sum(v.passed for v in verdicts),
        pass_rate=round(sum(v.passed for v in verdicts) / len(verdicts), 3) if verdicts else 0.0,
        with_recommendation=len(questions),
        questions_median=statistics.median(questions) if questions else None,
        questions_max=max(questions) if questions else None,
        turns_median=statistics.median(v.turns for v in verdicts) if verdicts else 0.0,
        seconds_median=(
            round(statistics.median(v.seconds for v in verdicts), 2) if verdicts else 0.0
        ),
        errors=errors,
    )


# --- running ------------------------------------------------------------------------------------


@contextmanager
def running_assistant(run_dir: Path) -> Iterator[StackSettings]:
    """The action server and the Rasa server, as `benchmarks.bench_turns` starts them."""
    settings = assistant_settings(run_dir)
    services = [action_service(settings), rasa_service(settings)]
    with Supervisor(services, run_dir / "logs", startup_timeout_s=600):
        yield settings


def play_split(
    personas: Sequence[Persona], channel: Channel, facts: frozenset[str]
) -> list[tuple[Verdict, Transcript]]:
    results = []
    for persona in personas:
        transcript = play(persona, channel, facts)
        results.append((judge(persona, transcript), transcript))
    return results


def select(split: str, only: Sequence[str]) -> dict[str, list[Persona]]:
    splits = SPLITS if split == "all" else (split,)
    chosen = {name: load_personas(name) for name in splits}
    if only:
        chosen = {name: [p for p in ps if p.id in only] for name, ps in chosen.items()}
        known = {p.id for ps in chosen.values() for p in ps}
        unknown = sorted(set(only) - known)
        if unknown:
            raise SystemExit(f"unknown persona id(s) in the split(s) played: {', '.join(unknown)}")
        chosen = {name: ps for name, ps in chosen.items() if ps}
    return chosen


def code_version(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The commit played and whether the working tree had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "uncommitted_changes": bool(git("status", "-s"))}


def transcript_data(transcript: Transcript) -> list[dict[str, Any]]:
    """A readable transcript (dev personas only): typed text, bot texts, question asked after."""
    return [
        {
            "typed": turn.message,
            "answered": turn.answered,
            "bot": [reply.get("text") or reply.get("custom") for reply in turn.replies],
            "requested_slot": turn.requested_slot,
        }
        for turn in transcript.turns
    ]


def split_report(name: str, results: Sequence[tuple[Verdict, Transcript]]) -> dict[str, Any]:
    """A split's summary; and each persona's verdict and transcript, except for the held-out split
    (its rule: figures only, never why a persona failed)."""
    verdicts = [verdict for verdict, _ in results]
    errors = sum(transcript.error is not None for _, transcript in results)
    entry: dict[str, Any] = {"summary": dataclasses.asdict(summarize(name, verdicts, errors))}
    if name != HELDOUT:
        entry["personas"] = [
            {**dataclasses.asdict(verdict), "transcript": transcript_data(transcript)}
            for verdict, transcript in results
        ]
    return entry


def run(split: str, only: Sequence[str]) -> dict[str, Any]:
    chosen = select(split, only)
    facts = profile_slots()
    report: dict[str, Any] = {"code": code_version(), "splits": {}}
    with tempfile.TemporaryDirectory() as tmp, running_assistant(Path(tmp)) as settings:
        base_url = f"http://{settings.host}:{settings.rasa_port}"
        with httpx.Client(timeout=120) as client:
            channel = RestChannel(
                base_url, settings.rasa_jwt_secret, settings.rasa_rest_token, client
            )
            for name, personas in chosen.items():
                report["splits"][name] = split_report(name, play_split(personas, channel, facts))
    return report


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def markdown(report: Mapping[str, Any]) -> str:
    lines = [SUMMARY_HEADER]
    for name, entry in report["splits"].items():
        s = entry["summary"]
        lines.append(
            f"| {name} | {s['personas']} | {s['passed']} | {s['pass_rate']:.0%} "
            f"| {s['with_recommendation']} | {_figure(s['questions_median'])} / "
            f"{_figure(s['questions_max'])} | {_figure(s['turns_median'])} "
            f"| {_figure(s['seconds_median'])} |"
        )
    for name, entry in report["splits"].items():
        if "personas" not in entry:
            continue
        lines += ["", f"{name} split, per persona:", "", PERSONA_HEADER]
        for v in entry["personas"]:
            lines.append(
                f"| {v['persona_id']} | {'pass' if v['passed'] else 'FAIL'} "
                f"| {_figure(v['questions'])} | {v['turns']} | {v['seconds']:.1f} "
                f"| {'; '.join(v['reasons'])} |"
            )
    code = report["code"]
    dirty = " with uncommitted changes" if code["uncommitted_changes"] else ""
    lines += ["", f"Code: {code['commit']}{dirty}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_personas", description=__doc__
    )
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    parser.add_argument("--only", nargs="+", default=[], metavar="ID", help="persona ids to play")
    parser.add_argument("--json", action="store_true", help="the full report, transcripts included")
    args = parser.parse_args(argv)
    report = run(args.split, args.only)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else markdown(report))
    errors = sum(entry["summary"]["errors"] for entry in report["splits"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
