"""The needs-discovery form: asks only the facts that would change the recommendation.

`validate_needs_discovery_form` is the form's validation action (actions/forms.py). On each turn it
reads the consent answer or, once consent is given, the answer to the question asked
(`requested_slot`) and any fact stated along the way (a correction: "en fait j'ai 42 ans"); each
fact read is checked against the whole profile (a contradiction is explained and its fact asked
again); then it chooses the next question from the engine's missing facts, None when nothing
useful is left or a special situation needs an advisor, which ends the form. Digressions (a product
question, a request for an advisor...) are rejected so that the rules answer them and the form
resumes. `action_summarize_profile` and `action_correct_fact` follow the form.
"""

import logging
import re
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.adapters import get_services
from actions.consent import consent_given
from actions.forms import NotAnAnswerError, QuestionForm, latest
from actions.goals import (
    acknowledgement,
    answered_goals,
    earlier_user_texts,
    merge_goals,
    stated_goals,
    volunteered,
)
from actions.messages import ADVISOR_BUTTON, CATEGORIES_BUTTON
from actions.profile_slots import (
    FACT_SLOTS,
    INVESTOR_SLOTS,
    MANDATORY_SLOTS,
    PROFILE_SLOTS,
    build_profile,
    contradiction_message,
    pending_pet_age,
    summary_lines,
)
from actions.slot_parsers import (
    SKIPPED,
    ParseError,
    defers_to_advisor,
    is_dont_know,
    parse_answer,
    volunteered_facts,
    yes_no,
)
from actions.text import is_negated, negated_spans, prepare
from product_catalog.engine import RecommendationResult, advisor_reasons
from product_catalog.profile import NeedsProfile
from product_catalog.questions import top_codes, worth_asking

logger = logging.getLogger(__name__)

# Intents that never answer a question: the form lets the rules handle them, then resumes.
INTERRUPTIONS = frozenset(
    {
        "ask_product_question",
        "ask_advisor",
        "bot_challenge",
        "ask_capabilities",
        "ask_product_categories",
        "goodbye",
        "thank",
        "greet",
        "start_over",
        "ask_instructions",
        "ask_quote",
        "ask_fraud",
    }
)
# Intents that may still carry an answer the parser can read ("un labrador" is sometimes taken
# for chitchat); when it cannot, the form lets the rules handle them.
WEAK_INTENTS = frozenset({"nlu_fallback", "out_of_scope", "chitchat"})
CONSENT_INTENTS = frozenset({"give_consent", "refuse_consent"})
# Intents a short answer is sometimes taken for ("Oui, allez-y" for a goodbye): when the message
# answers the question asked, it is read as the answer.
POLITE_INTENTS = frozenset({"goodbye", "thank", "greet", "start_over"})
# At most this many profile questions before a first recommendation; "Affiner" asks the rest.
QUESTIONS_BEFORE_FIRST_RECOMMENDATION = 14
# Below this confidence an interruption intent does not hide an answer the parser reads.
UNSURE_CONFIDENCE = 0.5

FAILURES_BEFORE_EXPLAINING = 2
FIRST_QUESTIONS = ("resides_in_france", "age")
# Answers that state what one holds or one's investor profile, not what one wishes: "j'ai déjà
# une mutuelle" answering the current-cover question is no health goal.
NO_GOAL_SLOTS = frozenset(
    {"current_coverage", "employer_health_plan", "legal_protection", *INVESTOR_SLOTS}
)
FORM_MACHINERY = frozenset(
    {None, "action_listen", "action_extract_slots", "needs_discovery_form",
     "validate_needs_discovery_form", "action_restart_if_meant"}
)  # fmt: skip
# The facts that call for an advisor whatever the prospect decides about consent.
SITUATION_FACTS = (
    "age",
    "resides_in_france",
    "legal_protection",
    "co_subscription",
    "dismembered_ownership",
)
LEGAL_PROTECTION_WORDS = (("guardianship", r"\btutel"), ("curatorship", r"\bcuratel"))

WHY_WE_ASK: dict[str, str] = {
    "resides_in_france": "nos contrats sont réservés aux personnes qui résident en France",
    "age": "l'âge conditionne l'accès à la plupart de nos contrats",
    "housing_status": "l'assurance habitation dépend de votre statut d'occupation",
    "rented_out_properties": "un logement mis en location s'assure par un contrat spécifique",
    "vehicles": "chaque véhicule doit être assuré, même s'il ne roule pas",
    "projects": "un prêt immobilier ou un projet d'épargne ouvre d'autres solutions",
    "loan_duration_years": "l'assurance emprunteur couvre toute la durée du prêt",
    "employment_status": "la prévoyance et la santé dépendent de votre situation professionnelle",
    "employer_health_plan": "une mutuelle d'entreprise change vos besoins en santé",
    "family_situation": "vos proches peuvent avoir besoin d'être protégés",
    "number_of_dependants": "les personnes à charge changent les garanties utiles",
    "children_at_school": "l'assurance scolaire concerne les enfants scolarisés",
    "pets": "nous assurons les frais vétérinaires des chiens et des chats",
    "pet_age_years": "l'assurance animaux n'accepte que les animaux de 8 ans au plus",
    "monthly_budget_eur": "je classe les produits en fonction de votre budget",
    "current_coverage": "je ne vous propose pas un contrat que vous avez déjà",
    "legal_protection": "une personne sous curatelle ou sous tutelle est assistée ou représentée "
    "pour souscrire un placement ou une assurance de prêt",
}
INVESTOR_WHY = (
    "la réglementation m'impose de connaître votre profil d'investisseur avant de vous proposer "
    "un placement"
)


def next_slot(slots: dict[str, Any]) -> str | None:
    """The next question worth asking, or None when the form is complete.

    Consent, residence and age first (every product depends on them), then what the prospect
    wants (`goals`) unless already said. With stated goals, only what the products answering them
    need, and the facts that would change their order: the first recommendation comes as soon as
    the goals are covered. Without goals, or once the prospect asks to refine a recommendation,
    every fact whose answer could change the first three products. The investor questions only
    when an investment product is at stake and the prospect has not left them to the advisor.
    """
    if not consent_given(slots):
        return None if slots.get("consent") is False else "consent"
    try:
        profile = build_profile(slots)
    except ValidationError:
        return None  # cannot happen: contradictions are cleared before this is called
    if advisor_reasons(profile):
        return None  # a special situation: the summary explains it and offers an advisor
    for slot in FIRST_QUESTIONS:
        if slots.get(slot) is None:
            return slot  # every product's eligibility depends on them: asked first
    refining = slots.get("recommended_products") is not None
    if not refining and _questions_left(slots) <= 0:
        return None  # "Affiner" asks the rest, the pet's age included
    if pending_pet_age(slots):
        return "pet_age_years"
    if slots.get("goals") is None and not refining:
        return "goals"
    result = get_services().catalogue.recommend(profile)
    return question_worth_asking(slots, profile, result, refining)


def question_worth_asking(
    slots: dict[str, Any], profile: NeedsProfile, result: RecommendationResult, refining: bool
) -> str | None:
    """Among the engine's missing facts, the first one not asked yet whose answer could change
    the products shown first (product_catalog/questions.py): among the products of the stated
    goals, or among all of them when refining or without goals."""
    engine = get_services().catalogue.engine
    focus = None if refining or not profile.goals else engine.goal_products(profile.goals)
    if focus is not None and not _still_possible(focus, result):
        focus = None  # no product can answer the stated goals: look at the whole situation
    baseline = top_codes(result, focus)
    investor: list[str] = []
    for fact in result.missing_facts:
        asked = FACT_SLOTS.get(fact.field)
        if asked is None or slots.get(asked) is not None:
            continue
        if focus is not None and focus.isdisjoint(fact.affects):
            continue  # serves none of the stated goals: left for "affiner"
        if asked in INVESTOR_SLOTS:
            investor.append(asked)  # asked last, as one block
        elif worth_asking(engine, profile, fact, baseline, focus):
            return asked
    # The investor questions go together, never cut short: only when the whole block fits in
    # what is left before the first recommendation (else "Affiner" or the advisor takes them).
    left = _questions_left(slots)
    started = any(slots.get(slot) is not None for slot in INVESTOR_SLOTS)
    if investor and (refining or started or len(investor) <= left):
        return min(investor, key=list(INVESTOR_SLOTS).index)
    return None


def _questions_left(slots: dict[str, Any]) -> int:
    """How many more questions may come before the first recommendation."""
    return QUESTIONS_BEFORE_FIRST_RECOMMENDATION - int(slots.get("questions_asked") or 0)


def _still_possible(codes: frozenset[str], result: RecommendationResult) -> bool:
    """Whether one of these products is shown, or waits for a fact that could make it so."""
    waiting = {code for fact in result.missing_facts for code in fact.affects}
    return any(item.code in codes for item in result.items) or not codes.isdisjoint(waiting)


def _unsure(tracker: Tracker) -> bool:
    """Whether the classifier hesitated over the latest message's intent: a reading of the
    expected answer then wins ("des bases, sans plus" is no request for instructions). The
    guardrail component's intents are certain (confidence 1), so they are never overruled."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return float(intent.get("confidence") or 0.0) < UNSURE_CONFIDENCE


def answers_question(slot: str, text: str) -> bool:
    """Whether the text reads as an answer to the question about `slot`."""
    if slot == "consent":
        return yes_no(text, None) is not None
    if slot == "goals":
        return bool(answered_goals(text)) or is_dont_know(text)
    try:
        parse_answer(slot, text)
    except (ParseError, KeyError):
        return False
    return True


class ValidateNeedsDiscoveryForm(QuestionForm):
    """Reads answers and corrections, and chooses the next question (see the module doc)."""

    # Consent and every profile fact, asked or stated; which one to ask is `next_question`'s.
    form_slots = ("consent", *PROFILE_SLOTS, "goals")

    def name(self) -> str:
        return "validate_needs_discovery_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """rasa-sdk's turn, then the count of failed answers to the same question: after
        `FAILURES_BEFORE_EXPLAINING` in a row, why it is asked."""
        requested = tracker.get_slot(REQUESTED_SLOT)
        failed = tracker.get_slot("failed_attempts")
        events = await super().run(dispatcher, tracker, domain)
        if not events:
            return events  # a digression
        following = events[-1]  # the next question (next_requested_slot)
        read = {event["name"] for event in events[:-1]}
        if following["value"] not in (None, "consent", requested):
            asked = int(tracker.get_slot("questions_asked") or 0) + 1
            events.insert(-1, SlotSet("questions_asked", float(asked)))
        if requested is not None and following["value"] == requested and requested in read:
            failures = int(failed or 0) + 1
            events.insert(-1, SlotSet("failed_attempts", float(failures)))
            if failures >= FAILURES_BEFORE_EXPLAINING:
                self._explain(requested, dispatcher)
        elif failed:
            events.insert(-1, SlotSet("failed_attempts", 0.0))
        return events

    def next_question(self, slots: dict[str, Any]) -> str | None:
        return next_slot(slots)

    def answers_consent(self, tracker: Tracker) -> bool:
        """The answer to the consent question, or consent given or refused before any question."""
        _, intent = latest(tracker)
        return super().answers_consent(tracker) or (
            tracker.get_slot(REQUESTED_SLOT) is None
            and intent in CONSENT_INTENTS
            and tracker.get_slot("consent") is None
        )

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """The consent answer (`extract_consent`) or, once consent is given, the facts of the
        message. These are read together, the answer to the question asked and the facts stated
        along the way, hence here rather than by one `extract_<slot>` method per fact."""
        text, intent = latest(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        if answered_since_message(tracker):
            # Nothing new to read: the form resumes after a digression (and asks again), or
            # starts after the misunderstanding action saw a stated need in the message.
            if requested is None and tracker.get_slot("consent") is None:
                self._acknowledge(text, dispatcher)
            return []
        if requested in INVESTOR_SLOTS and defers_to_advisor(text):
            return self._defer_investor_questions(tracker, dispatcher)
        if requested == "goals" and defers_to_advisor(text):
            dispatcher.utter_message(
                text="Pas de souci : je vous pose quelques questions, et un conseiller pourra "
                "tout reprendre avec vous."
            )
            return [SlotSet("goals", merge_goals(tracker.get_slot("goals"), []))]
        if (
            requested is not None
            and intent in INTERRUPTIONS
            and not (
                (intent in POLITE_INTENTS or _unsure(tracker)) and answers_question(requested, text)
            )
        ):
            raise NotAnAnswerError
        updates = self.extract_consent(dispatcher, tracker, domain)
        slots = dict(tracker.slots)
        if updates.get("consent") is True and not consent_given(slots):
            updates.update(self._read_earlier(tracker, {**slots, **updates}, dispatcher))
        elif not updates and consent_given(slots):
            updates = self._read_facts(requested, text, intent, slots, dispatcher)
            if requested is not None and not updates and intent in WEAK_INTENTS:
                raise NotAnAnswerError
        elif not updates and requested is None and slots.get("consent") is None:
            self._acknowledge(text, dispatcher)  # an opening message, before consent is asked
        return [SlotSet(name, value) for name, value in updates.items()]

    @staticmethod
    def _acknowledge(text: str, dispatcher: CollectingDispatcher) -> None:
        """Say what was understood of an opening message that states a need or a situation."""
        goals = stated_goals(text)
        facts = {k: v for k, v in volunteered(text).items() if k in PROFILE_SLOTS}
        if goals or facts:
            pets = facts.get("pets")
            dispatcher.utter_message(
                text=acknowledgement(goals, pets if isinstance(pets, list) else None)
            )

    @staticmethod
    def _defer_investor_questions(
        tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> list[EventType]:
        """The prospect leaves the investor questions to the advisor: none is asked again, and
        the investment products wait for the advisor's assessment."""
        dispatcher.utter_message(
            text="C'est noté : le conseiller établira votre profil d'investisseur avec vous. "
            "Je continue sans ces questions."
        )
        return [SlotSet(slot, SKIPPED) for slot in INVESTOR_SLOTS if tracker.get_slot(slot) is None]

    @staticmethod
    def _read_earlier(
        tracker: Tracker, slots: dict[str, Any], dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        """Once consent is given: the facts and goals of the messages said before, so that
        nothing already said is asked again (a later statement of a fact wins)."""
        facts: dict[str, Any] = {}
        goals: list[str] = list(slots.get("goals") or [])
        for text in [*earlier_user_texts(tracker), latest(tracker)[0]]:
            facts.update({k: v for k, v in volunteered(text).items() if k in PROFILE_SLOTS})
            goals = merge_goals(goals, stated_goals(text))
        if goals:
            facts["goals"] = goals
        if facts:
            lines = summary_lines({**slots, **facts})
            dispatcher.utter_message(
                text="Merci. Je tiens compte de ce que vous m'avez déjà dit :\n"
                + "\n".join(f"• {line}" for line in lines)
            )
        return facts

    def validate_fact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Every profile fact (`validate_<fact>`): the profile must hold together. A contradiction
        is explained with the model's French reason and the fact pydantic blames is cleared, to
        be asked again; the first fact validated in a turn clears them all."""
        return self._clear_contradictions(dict(tracker.slots), dispatcher)

    def _read_facts(
        self,
        requested: str | None,
        text: str,
        intent: str | None,
        slots: dict[str, Any],
        dispatcher: CollectingDispatcher,
    ) -> dict[str, Any]:
        updates: dict[str, Any] = {}
        stated = volunteered(text)
        if requested not in NO_GOAL_SLOTS:
            said = answered_goals(text) if requested == "goals" else stated_goals(text)
            goals = merge_goals(slots.get("goals"), said)
            if goals != list(slots.get("goals") or []):
                updates["goals"] = goals
        if requested == "goals":
            # Whatever the answer says, the question is not asked again: "faire le point sur
            # tout" or "je ne sais pas" leave the choice of questions to the facts.
            updates.setdefault("goals", merge_goals(slots.get("goals"), []))
        elif requested is not None and requested != "consent" and requested not in stated:
            if intent == "dont_know" or is_dont_know(text):
                if requested in MANDATORY_SLOTS:
                    dispatcher.utter_message(
                        text=f"J'ai besoin de cette information : {WHY_WE_ASK[requested]}."
                    )
                    updates[requested] = None
                elif requested in INVESTOR_SLOTS and any(
                    slots.get(slot) == SKIPPED for slot in INVESTOR_SLOTS
                ):
                    # Twice not known: the advisor will go through the rest with them.
                    dispatcher.utter_message(
                        text="Pas de souci : le conseiller établira votre profil d'investisseur "
                        "avec vous. Je continue sans ces questions."
                    )
                    updates.update(
                        {slot: SKIPPED for slot in INVESTOR_SLOTS if slots.get(slot) is None}
                    )
                else:
                    dispatcher.utter_message(text="Pas de souci, passons à la suite.")
                    updates[requested] = SKIPPED
            else:
                try:
                    updates[requested] = (
                        read_legal_protection(text, intent)
                        if requested == "legal_protection"
                        else parse_answer(requested, text, intent)
                    )
                except ParseError as error:
                    if intent not in WEAK_INTENTS and not stated and "goals" not in updates:
                        dispatcher.utter_message(text=f"Je n'ai pas compris votre réponse. {error}")
                        updates[requested] = None
        if updates.get("number_of_dependants") == 0 and slots.get("children_at_school") is None:
            updates["children_at_school"] = 0  # a child at school is a dependant
        changed = []
        for name, value in stated.items():
            if name not in PROFILE_SLOTS:
                continue
            previous = slots.get(name)
            if previous not in (None, SKIPPED) and previous != value and name != requested:
                changed.append(name)
            updates[name] = value
        if changed:
            lines = [line for line in summary_lines({**slots, **updates}) if line]
            shown = [line for line in lines if any(_label_of(n) in line for n in changed)]
            dispatcher.utter_message(
                text="C'est corrigé. " + " ; ".join(shown or ["information mise à jour"]) + "."
            )
        return updates

    @staticmethod
    def _clear_contradictions(
        merged: dict[str, Any], dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        """Blame the field pydantic names: it is cleared and asked again, with the reason."""
        cleared: dict[str, Any] = {}
        for _ in range(5):
            try:
                build_profile({**merged, **cleared})
                return cleared
            except ValidationError as error:
                location = [str(part) for part in error.errors()[0].get("loc", ())]
                field = ".".join(location[:1])
                slot = FACT_SLOTS.get(field, field if field in PROFILE_SLOTS else "")
                if field == "investor" and len(location) > 1:
                    slot = FACT_SLOTS.get(f"investor.{location[1]}", "")
                if not slot:
                    logger.warning("unexpected profile error on %s", field)
                    return cleared
                dispatcher.utter_message(
                    text="Cela ne me semble pas cohérent : "
                    f"{contradiction_message(error)}. Reprenons ce point."
                )
                cleared[slot] = None
        return cleared

    @staticmethod
    def _explain(slot: str, dispatcher: CollectingDispatcher) -> None:
        why = WHY_WE_ASK.get(slot, INVESTOR_WHY)
        skip = (
            ""
            if slot in MANDATORY_SLOTS
            else " Si vous ne savez pas, répondez « je ne sais pas » et nous passerons à la suite."
        )
        dispatcher.utter_message(
            text=f"Je vous pose cette question parce que {why}.{skip} Vous pouvez aussi demander "
            "à parler à un conseiller."
        )


def answered_since_message(tracker: Tracker) -> bool:
    """Whether an action other than the form's has run since the latest user message: the form
    then resumes after a digression, or starts after the misunderstanding action."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in FORM_MACHINERY:
            return True
    return False


def read_legal_protection(text: str, intent: str | None) -> str:
    """The answer to the legal-protection question: none, curatorship or guardianship ("je ne
    suis ni sous curatelle ni sous tutelle" is none)."""
    prepared = prepare(text)
    negated = negated_spans(prepared)
    for value, pattern in LEGAL_PROTECTION_WORDS:
        found = [m.start() for m in re.finditer(pattern, prepared)]
        if any(not is_negated(negated, start) for start in found):
            return value
    answer = yes_no(text, intent)
    if answer is False:
        return "none"
    raise ParseError(
        "Répondez « non », ou précisez s'il s'agit d'une curatelle ou d'une tutelle."
        if answer
        else "Répondez « non », « curatelle » ou « tutelle »."
    )


def special_situation_reasons(tracker: Tracker) -> list[str]:
    """Why an advisor is needed, from what the conversation said, without keeping any fact:
    used when consent was refused."""
    facts: dict[str, Any] = {}
    for event in tracker.events:
        if event.get("event") == "user":
            said = volunteered_facts(str(event.get("text") or ""))
            facts.update({k: v for k, v in said.items() if k in SITUATION_FACTS})
    try:
        return advisor_reasons(NeedsProfile.model_validate(facts))
    except ValidationError:
        return []


# rasa-sdk calls `validate_<slot>` for each slot read in a turn: every fact has the same check.
for _fact in (*PROFILE_SLOTS, "goals"):
    setattr(
        ValidateNeedsDiscoveryForm, f"validate_{_fact}", ValidateNeedsDiscoveryForm.validate_fact
    )


def _label_of(slot: str) -> str:
    return {
        "age": "Âge",
        "housing_status": "Logement",
        "employment_status": "Situation professionnelle",
        "family_situation": "Situation familiale",
        "vehicles": "Véhicules",
        "pets": "Animaux",
        "projects": "Projets",
        "number_of_dependants": "Personnes à charge",
        "resides_in_france": "Résidence",
    }.get(slot, slot)


class ActionSummarizeProfile(Action):
    """After the form: the facts to confirm, or why an advisor must take over."""

    def name(self) -> str:
        return "action_summarize_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        if not consent_given(slots):
            situation = special_situation_reasons(tracker)
            if situation:
                dispatcher.utter_message(
                    text="Sans votre accord, je ne garde aucune information sur votre situation. "
                    "D'après ce que vous m'avez dit, elle demande toutefois l'accompagnement d'un "
                    "conseiller :\n"
                    + "\n".join(f"• {reason}" for reason in situation)
                    + "\nSi vous le souhaitez, un conseiller peut vous recontacter : il vous "
                    "demandera alors votre accord pour noter vos coordonnées.",
                    buttons=[ADVISOR_BUTTON, CATEGORIES_BUTTON],
                )
                return [SlotSet("handoff_reason", "special_situation")]
            dispatcher.utter_message(
                text="Sans votre accord, je ne garde aucune information sur votre situation. "
                "Vous pouvez me poser vos questions sur nos contrats, ou découvrir nos familles "
                "de produits.",
                buttons=[CATEGORIES_BUTTON],
            )
            return []
        profile = build_profile(slots)
        reasons = advisor_reasons(profile)
        if reasons:
            dispatcher.utter_message(
                text="Votre situation demande l'accompagnement d'un conseiller :\n"
                + "\n".join(f"• {reason}" for reason in reasons)
                + "\nJe peux transmettre votre demande à un conseiller qui vous recontactera.",
                buttons=[
                    ADVISOR_BUTTON,
                    {"title": "Voir quand même les produits", "payload": "/affirm"},
                ],
            )
            return [SlotSet("handoff_reason", "special_situation")]
        lines = summary_lines(slots)
        dispatcher.utter_message(
            text="Voici ce que j'ai retenu :\n"
            + "\n".join(f"• {line}" for line in lines)
            + "\nEst-ce exact ?",
            buttons=[
                {"title": "Oui, c'est exact", "payload": "/affirm"},
                {"title": "Non, je corrige", "payload": "/deny"},
            ],
        )
        return []


class ActionCorrectFact(Action):
    """A correction outside the form ("en fait j'ai 42 ans"), then the summary again."""

    def name(self) -> str:
        return "action_correct_fact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, _ = latest(tracker)
        slots = dict(tracker.slots)
        if not consent_given(slots):
            dispatcher.utter_message(
                text="Je ne conserve aucune information sans votre accord : il n'y a rien à "
                "corriger de mon côté."
            )
            return []
        stated = {k: v for k, v in volunteered(text).items() if k in PROFILE_SLOTS}
        if not stated:
            dispatcher.utter_message(
                text="Je n'ai pas compris ce qu'il faut corriger. Dites-le-moi simplement, par "
                "exemple : « en fait j'ai 42 ans » ou « je suis locataire »."
            )
            return []
        merged = {**slots, **stated}
        try:
            build_profile(merged)
        except ValidationError as error:
            dispatcher.utter_message(
                text="Je ne peux pas enregistrer cette correction : "
                f"{contradiction_message(error)}."
            )
            return []
        dispatcher.utter_message(text="C'est corrigé, merci.")
        return [SlotSet(name, value) for name, value in stated.items()]
