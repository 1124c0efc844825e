"""The persona simulator's judge, its choice of what to type, and its reports, on scripted
transcripts and a fake bot (no server)."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest

from benchmarks.bench_personas import (
    START_DISCOVERY_TEXT,
    STOP_ADVISOR,
    STOP_NOT_UNDERSTOOD,
    STOP_NOTHING_ASKED,
    STOP_RECOMMENDATION,
    Expectation,
    Persona,
    RestChannel,
    Transcript,
    Turn,
    judge,
    load_personas,
    markdown,
    next_message,
    play,
    profile_slots,
    split_report,
    summarize,
)

pytestmark = pytest.mark.unit

FACTS = frozenset({"resides_in_france", "age", "vehicles", "pets"})


def persona(
    top3: Sequence[str] = ("deux_roues",),
    never: Sequence[str] = ("auto",),
    advisor: bool = False,
    refused: bool = False,
) -> Persona:
    return Persona(
        id="dev-99-test",
        opening="je cherche une assurance pour mon scooter",
        consent="non merci" if refused else "oui",
        answers={"resides_in_france": "oui", "age": "27 ans", "vehicles": "un scooter 125"},
        default="je ne sais pas",
        expect=Expectation(tuple(top3), tuple(never), advisor, refused),
    )


def recommendation(*categories: str) -> dict[str, Any]:
    items = [{"code": f"VG-{c}", "name": c, "category": c} for c in categories]
    return {"custom": {"type": "recommendations", "items": items}}


def turn(
    asked_after: str | None,
    *replies: Mapping[str, Any],
    consent: bool | None = True,
    handoff_reason: str | None = None,
    facts: Sequence[str] = (),
    message: str = "…",
    answered: str | None = None,
) -> Turn:
    return Turn(
        message=message,
        answered=answered,
        replies=tuple(replies) or ({"text": "Question ?"},),
        requested_slot=asked_after,
        consent=consent,
        handoff_reason=handoff_reason,
        facts=tuple(facts),
    )


def transcript(*turns: Turn, stopped: str = STOP_RECOMMENDATION) -> Transcript:
    return Transcript("dev-99-test", list(turns), stopped=stopped, seconds=1.25)


def opening_then(*turns: Turn, stopped: str = STOP_RECOMMENDATION) -> Transcript:
    return transcript(turn("consent", consent=None), *turns, stopped=stopped)


class TestJudge:
    def test_a_good_conversation_passes_with_its_figures(self) -> None:
        verdict = judge(
            persona(),
            opening_then(
                turn("resides_in_france"),
                turn("age"),
                turn("age"),  # asked again: one question, two asks
                turn("vehicles"),
                turn(None, {"text": "Voici ce que j'ai retenu… Est-ce exact ?"}),
                turn(None, {"text": "Voici les produits"}, recommendation("deux_roues", "sante")),
            ),
        )
        assert verdict.passed, verdict.reasons
        assert (verdict.questions, verdict.asks, verdict.turns) == (3, 4, 7)
        assert verdict.seconds == 1.25

    def test_an_expected_category_below_the_top_three_fails(self) -> None:
        verdict = judge(
            persona(),
            opening_then(
                turn("age"), turn(None, recommendation("sante", "gav", "habitation", "deux_roues"))
            ),
        )
        assert not verdict.passed
        assert verdict.reasons == (
            "expected in the top three, missing: deux_roues (top three: sante, gav, habitation)",
        )

    def test_only_the_first_recommendation_counts_for_the_top_three(self) -> None:
        verdict = judge(
            persona(never=()),
            opening_then(
                turn(None, recommendation("sante")),
                turn(None, recommendation("deux_roues")),
            ),
        )
        assert verdict.reasons == (
            "expected in the top three, missing: deux_roues (top three: sante)",
        )

    def test_a_never_category_in_any_recommendation_fails(self) -> None:
        verdict = judge(
            persona(),
            opening_then(
                turn(None, recommendation("deux_roues")),
                turn(None, recommendation("habitation", "sante", "gav", "auto")),
            ),
        )
        assert verdict.reasons == ("recommended a category it must never get: auto",)

    def test_questions_are_counted_before_the_first_recommendation_consent_excluded(self) -> None:
        verdict = judge(
            persona(),
            opening_then(
                turn("age"),
                turn("vehicles"),
                turn("pets", recommendation("deux_roues")),
                turn("monthly_budget_eur"),
            ),
        )
        assert (verdict.questions, verdict.asks) == (2, 2)

    def test_an_opening_that_does_not_ask_consent_fails(self) -> None:
        verdict = judge(
            persona(),
            transcript(
                turn(None, {"text": "D'après la FAQ…"}, consent=None),
                turn("consent", consent=None),
                turn(None, recommendation("deux_roues")),
            ),
        )
        assert verdict.reasons == ("the opening did not start the discovery (no consent question)",)

    def test_no_recommendation_fails_with_why_it_stopped(self) -> None:
        verdict = judge(
            persona(),
            opening_then(turn("age"), turn("age"), turn("age"), stopped=STOP_NOT_UNDERSTOOD),
        )
        assert verdict.reasons == (
            f"no recommendation (stopped: {STOP_NOT_UNDERSTOOD})",
            "age asked 3 times in a row",
        )
        assert verdict.questions is None

    def test_the_expected_advisor_proposal_passes_without_a_recommendation(self) -> None:
        verdict = judge(
            persona(top3=(), advisor=True),
            opening_then(turn(None, handoff_reason="special_situation"), stopped=STOP_ADVISOR),
        )
        assert verdict.passed, verdict.reasons

    def test_a_missing_advisor_proposal_fails(self) -> None:
        verdict = judge(
            persona(top3=(), advisor=True),
            opening_then(turn(None, recommendation("epargne"))),
        )
        assert verdict.reasons == ("no advisor proposal for the special situation",)

    def test_an_advisor_for_misunderstanding_is_not_the_special_situation_proposal(self) -> None:
        verdict = judge(
            persona(top3=(), advisor=True),
            opening_then(turn(None, handoff_reason="misunderstanding"), stopped=STOP_NOTHING_ASKED),
        )
        assert verdict.reasons == ("no advisor proposal for the special situation",)

    def test_an_unexpected_advisor_proposal_fails(self) -> None:
        verdict = judge(
            persona(),
            opening_then(turn(None, handoff_reason="special_situation"), stopped=STOP_ADVISOR),
        )
        assert "unexpected advisor proposal for a special situation" in verdict.reasons

    def test_a_respected_refusal_passes(self) -> None:
        verdict = judge(
            persona(top3=(), never=(), refused=True),
            opening_then(turn(None, consent=False), stopped=STOP_NOTHING_ASKED),
        )
        assert verdict.passed, verdict.reasons

    def test_a_recommendation_or_a_stored_fact_after_a_refusal_fails(self) -> None:
        verdict = judge(
            persona(top3=(), never=(), refused=True),
            opening_then(
                turn(None, consent=False, facts=("age", "vehicles")),
                turn(None, recommendation("deux_roues"), consent=False),
            ),
        )
        assert verdict.reasons == (
            "recommendation after a refused consent",
            "profile facts stored after a refused consent: age, vehicles",
        )

    def test_a_refusal_read_as_consent_fails(self) -> None:
        verdict = judge(
            persona(top3=(), never=(), refused=True),
            opening_then(turn("resides_in_france", consent=True), stopped=STOP_NOTHING_ASKED),
        )
        assert verdict.reasons == ("the refusal was read as consent",)

    def test_a_consent_read_as_a_refusal_fails(self) -> None:
        verdict = judge(
            persona(), opening_then(turn(None, consent=False), stopped=STOP_NOTHING_ASKED)
        )
        assert verdict.reasons == (
            "the consent was read as a refusal",
            f"no recommendation (stopped: {STOP_NOTHING_ASKED})",
        )


class TestNextMessage:
    def test_the_person_answers_the_question_the_tracker_says_was_asked(self) -> None:
        p = persona()
        assert next_message(p, [turn("consent", consent=None)]) == ("oui", "consent")
        assert next_message(p, [turn("consent"), turn("age")]) == ("27 ans", "age")
        assert next_message(p, [turn("consent"), turn("pets")]) == ("je ne sais pas", "pets")

    def test_a_yes_no_question_gets_oui(self) -> None:
        summary = {"text": "Est-ce exact ?", "buttons": [{"title": "Oui", "payload": "/affirm"}]}
        assert next_message(persona(), [turn("consent"), turn(None, summary)]) == ("oui", None)

    def test_the_third_ask_in_a_row_stops(self) -> None:
        turns = [turn("consent"), turn("age"), turn("age")]
        assert next_message(persona(), turns) == ("27 ans", "age")
        assert next_message(persona(), [*turns, turn("age")]) == STOP_NOT_UNDERSTOOD

    def test_an_opening_not_understood_takes_the_discovery_button_once(self) -> None:
        fallback = {
            "text": "Je n'ai pas bien compris",
            "buttons": [
                {"title": "Faire le point sur mes besoins", "payload": "/request_recommendation"}
            ],
        }
        first = turn(None, fallback, consent=None)
        assert next_message(persona(), [first]) == ("Faire le point sur mes besoins", None)
        answer = turn(None, {"text": "D'après la FAQ…"}, consent=None)
        assert next_message(persona(), [answer]) == (START_DISCOVERY_TEXT, None)
        assert next_message(persona(), [first, first]) == STOP_NOTHING_ASKED

    def test_it_stops_at_the_first_recommendation_and_at_the_advisor_proposal(self) -> None:
        assert next_message(persona(), [turn("age", recommendation("auto"))]) == (
            STOP_RECOMMENDATION
        )
        routed = turn("contact_name", handoff_reason="special_situation")
        assert next_message(persona(), [routed]) == STOP_ADVISOR


class FakeBot:
    """A scripted bot: consent, then age and vehicles, a summary, and a recommendation."""

    QUESTIONS = ("consent", "resides_in_france", "age", "vehicles", None)

    def __init__(self) -> None:
        self.received: list[str] = []
        self.slots: dict[str, Any] = {"requested_slot": None}

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        self.received.append(message)
        step = len(self.received) - 1
        if step < len(self.QUESTIONS):
            self.slots["requested_slot"] = self.QUESTIONS[step]
            if step >= 3:
                self.slots["age"] = 27
            if step == len(self.QUESTIONS) - 1:
                button = {"title": "Oui, c'est exact", "payload": "/affirm"}
                return [{"text": "Est-ce exact ?", "buttons": [button]}]
            return [{"text": "Question ?"}]
        return [{"text": "Voici"}, recommendation("deux_roues")]

    def tracker(self, sender: str) -> dict[str, Any]:
        return {"slots": dict(self.slots)}


def test_play_follows_the_form_to_the_first_recommendation() -> None:
    bot = FakeBot()
    clock = iter([10.0, 12.5])
    result = play(persona(), bot, FACTS, clock=lambda: next(clock))
    assert bot.received == [
        "je cherche une assurance pour mon scooter", "oui", "oui", "27 ans", "un scooter 125", "oui"
    ]  # fmt: skip
    assert result.stopped == STOP_RECOMMENDATION
    assert result.turns[3].facts == ("age",)
    verdict = judge(persona(), result)
    assert (verdict.passed, verdict.questions, verdict.turns, verdict.seconds) == (
        True, 3, 6, 2.5
    )  # fmt: skip


def test_the_rest_channel_sends_its_credentials_in_headers_never_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/tracker"):
            return httpx.Response(200, json={"slots": {}})
        return httpx.Response(200, json=[{"text": "Bonjour"}])

    secret = "a-secret-of-this-test-only-0123456789"
    token = "a-rest-token-of-this-test-only-012345"
    client = httpx.Client(transport=httpx.MockTransport(handler))
    channel = RestChannel("http://127.0.0.1:5005", secret, token, client)
    channel.say("persona-1", "Bonjour")
    channel.tracker("persona-1")
    post, get = seen
    assert json.loads(post.content) == {"sender": "persona-1", "message": "Bonjour"}
    assert post.headers["Authorization"] == f"Bearer {token}"
    # the REST channel keeps the conversation under its namespace
    assert str(get.url) == "http://127.0.0.1:5005/conversations/rest:persona-1/tracker"
    assert get.headers["Authorization"].startswith("Bearer ")
    assert get.headers["Authorization"] != post.headers["Authorization"]
    assert not any(request.url.query for request in seen)


class TestReports:
    def verdicts(self) -> list[tuple[Any, Transcript]]:
        good = opening_then(turn("age"), turn("vehicles"), turn(None, recommendation("deux_roues")))
        slow = opening_then(*[turn(f"q{i}") for i in range(9)], turn(None, recommendation("sante")))
        advisor = opening_then(turn(None, handoff_reason="special_situation"), stopped=STOP_ADVISOR)
        return [
            (judge(persona(), good), good),
            (judge(persona(), slow), slow),
            (judge(persona(top3=(), advisor=True), advisor), advisor),
        ]

    def test_the_summary_counts_questions_over_the_personas_with_a_recommendation(self) -> None:
        summary = summarize("dev", [verdict for verdict, _ in self.verdicts()])
        assert (summary.personas, summary.passed, summary.pass_rate) == (3, 2, 0.667)
        assert summary.with_recommendation == 2
        assert (summary.questions_median, summary.questions_max) == (5.5, 9)
        assert summary.turns_median == 4

    def test_the_held_out_split_reports_figures_only(self) -> None:
        report = {
            "code": {"commit": "abc", "uncommitted_changes": True},
            "splits": {
                "dev": split_report("dev", self.verdicts()),
                "heldout": split_report("heldout", self.verdicts()),
            },
        }
        assert "personas" in report["splits"]["dev"]
        assert set(report["splits"]["heldout"]) == {"summary"}
        text = markdown(report)
        assert "| heldout | 3 | 2 | 67% | 2 | 5.5 / 9 | 4 |" in text
        assert text.count("dev-99-test") == 3  # the dev rows only
        assert "abc with uncommitted changes" in text


def test_the_dev_personas_load_and_name_only_profile_slots_or_contact_slots() -> None:
    personas = load_personas("dev")
    assert len(personas) >= 40
    assert all(p.id.startswith("dev-") for p in personas)
    known = profile_slots() | {"co_subscription", "contact_name", "contact", "callback_slot"}
    assert {slot for p in personas for slot in p.answers} <= known
