"""`IncrementalTracker` gives exactly what Rasa's `DialogueStateTracker` gives.

Every story, rule and test conversation of the project, and seeded random conversations built
from every kind of event that changes the applied events or the states (reverts, restarts,
sessions, loops rejected and interrupted, entities added, the featurization redefined, events
replaced), are grown one event at a time on both trackers; after each event the applied events,
the past states (each way the policies ask for them) and the featurizers' prediction states must
be equal.
"""

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.featurizers.single_state_featurizer import SingleStateFeaturizer
from rasa.core.featurizers.tracker_featurizers import (
    FullDialogueTrackerFeaturizer,
    MaxHistoryTrackerFeaturizer,
)
from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    RULE_ONLY_LOOPS,
    RULE_ONLY_SLOTS,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from bot.trackers import IncrementalTracker

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture(scope="module")
def rule_only_data(domain: Domain) -> dict:
    # The shape the policies pass; half the slots and every form, so that filtering happens.
    return {
        RULE_ONLY_SLOTS: [slot.name for slot in domain.slots][::2],
        RULE_ONLY_LOOPS: list(domain.form_names),
    }


def _project_conversations(domain: Domain) -> list[list[Event]]:
    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"),
        str(PROJECT_ROOT / "domain.yml"),
        [str(PROJECT_ROOT / "bot"), str(PROJECT_ROOT / "tests" / "conversations")],
    )
    stories = importer.get_stories()
    trackers = TrainingDataGenerator(
        stories, domain, remove_duplicates=False, augmentation_factor=0
    ).generate()
    return [list(tracker.events) for tracker in trackers]


def _same_everywhere(
    incremental: IncrementalTracker,
    rasa: DialogueStateTracker,
    domain: Domain,
    rule_only_data: dict,
) -> None:
    assert incremental.applied_events() == rasa.applied_events()
    for omit_unset_slots, ignore_rule_only_turns in itertools.product((False, True), repeat=2):
        past = dict(
            omit_unset_slots=omit_unset_slots, ignore_rule_only_turns=ignore_rule_only_turns
        )
        assert incremental.past_states(domain, rule_only_data=rule_only_data, **past) == (
            rasa.past_states(domain, rule_only_data=rule_only_data, **past)
        )
    # As the policies receive them: sliced, and the last user input reduced to intent or text
    # (which changes states in place, where Rasa's states share their parts).
    featurizers = (
        MaxHistoryTrackerFeaturizer(SingleStateFeaturizer(), max_history=5),
        FullDialogueTrackerFeaturizer(SingleStateFeaturizer()),
    )
    for featurizer, use_text, ignore in itertools.product(
        featurizers, (False, True), (False, True)
    ):
        asked = dict(use_text_for_last_user_input=use_text, ignore_rule_only_turns=ignore)
        assert featurizer.prediction_states(
            [incremental], domain, rule_only_data=rule_only_data, **asked
        ) == featurizer.prediction_states([rasa], domain, rule_only_data=rule_only_data, **asked)


def _grow(
    events: list[Event],
    domain: Domain,
    rule_only_data: dict,
    every: int = 1,
    max_event_history: int | None = None,
) -> None:
    incremental = IncrementalTracker("someone", domain.slots, max_event_history)
    rasa = DialogueStateTracker("someone", domain.slots, max_event_history)
    for count, event in enumerate(events, start=1):
        incremental.update(event)
        rasa.update(event)
        if count % every == 0 or count == len(events):
            _same_everywhere(incremental, rasa, domain, rule_only_data)


def test_the_project_conversations_give_rasa_values(domain, rule_only_data):
    conversations = _project_conversations(domain)
    assert len(conversations) > 20
    for events in conversations:
        _grow(events, domain, rule_only_data)


def _random_conversation(domain: Domain, seed: int, length: int) -> Iterator[Event]:
    """Events of every kind that touch the applied events or the states, in random order."""
    chance = random.Random(seed)  # noqa: S311 (a seeded test sequence, not a secret)
    intents = list(domain.intents)
    actions = [name for name in domain.user_actions if not name.startswith("utter_")] or [
        "action_x"
    ]
    forms = list(domain.form_names)
    slots = list(domain.slots)
    entities = list(domain.entities) or ["thing"]
    latest_form = forms[0] if forms else "some_form"
    for _ in range(length):
        roll = chance.random()
        if roll < 0.22:
            yield ActionExecuted(ACTION_LISTEN_NAME)
            yield UserUttered(
                chance.choice(["oui", "non", "bonjour", "j'ai 35 ans"]),
                {"name": chance.choice(intents), "confidence": 1.0},
                [{"entity": chance.choice(entities), "value": "x"}]
                if chance.random() < 0.3
                else [],
            )
        elif roll < 0.42:
            # action_listen alone too: the latest message can then still change in place.
            yield ActionExecuted(chance.choice(actions + forms + ["utter_greet", "action_listen"]))
        elif roll < 0.55:
            slot = chance.choice(slots)
            values = [None, "oui", True, False, 3.0, ["a"], "autre"]
            if slot.type_name == "categorical":
                values += list(getattr(slot, "values", []))
            yield SlotSet(slot.name, chance.choice(values))
        elif roll < 0.63:
            latest_form = chance.choice([*forms, "a_loop_seen_late"]) if forms else "a_loop"
            yield ActiveLoop(latest_form)
            yield ActionExecuted(latest_form)
        elif roll < 0.67:
            yield ActiveLoop(None)
        elif roll < 0.70:
            yield ActionExecutionRejected(latest_form)
        elif roll < 0.72:
            yield LoopInterrupted(chance.random() < 0.5)
        elif roll < 0.76:
            yield EntitiesAdded([{"entity": chance.choice(entities), "value": "y"}])
        elif roll < 0.79:
            yield DefinePrevUserUtteredFeaturization(chance.random() < 0.3)
        elif roll < 0.82:
            yield UserUtteranceReverted()
        elif roll < 0.85:
            yield ActionReverted()
        elif roll < 0.87:
            yield Restarted()
        elif roll < 0.89:
            yield SessionStarted()
        elif roll < 0.91:
            yield AllSlotsReset()
        elif roll < 0.93:
            yield FollowupAction(chance.choice(actions))
        elif roll < 0.96:
            action = ActionExecuted(chance.choice(actions))
            action.hide_rule_turn = True
            yield action
        else:
            yield BotUttered("Très bien.")


@pytest.mark.parametrize("seed", range(24))
def test_random_conversations_give_rasa_values(domain, rule_only_data, seed):
    events = list(_random_conversation(domain, seed, length=60))
    _grow(events, domain, rule_only_data)


def test_a_history_cut_to_its_last_events_gives_rasa_values(domain, rule_only_data):
    """A tracker store's `max_event_history`: the oldest events leave as new ones come."""
    events = list(_random_conversation(domain, 5, length=60))
    _grow(events, domain, rule_only_data, max_event_history=12)


def test_a_replaced_event_is_replayed_from_the_start(domain, rule_only_data):
    incremental = IncrementalTracker("someone", domain.slots)
    rasa = DialogueStateTracker("someone", domain.slots)
    events = list(_random_conversation(domain, 99, length=40))
    for event in events:
        incremental.update(event)
        rasa.update(event)
    _same_everywhere(incremental, rasa, domain, rule_only_data)
    # As the tracker store's redaction does: an event swapped for another in place.
    index = next(i for i, event in enumerate(events) if isinstance(event, UserUttered))
    replacement = UserUttered("[supprimé]", {"name": list(domain.intents)[-1], "confidence": 1.0})
    incremental.events[index] = replacement
    rasa.events[index] = replacement
    _same_everywhere(incremental, rasa, domain, rule_only_data)


def test_a_latest_message_changed_in_place_is_seen(domain, rule_only_data):
    """Entities added to the latest message after the states of its turn were asked for."""
    incremental = IncrementalTracker("someone", domain.slots)
    rasa = DialogueStateTracker("someone", domain.slots)
    entity = next(iter(domain.entities))
    for event in (
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("bonjour", {"name": next(iter(domain.intents)), "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        ActionExecuted(ACTION_LISTEN_NAME),
    ):
        incremental.update(event)
        rasa.update(event)
    _same_everywhere(incremental, rasa, domain, rule_only_data)
    for event in (
        EntitiesAdded([{"entity": entity, "value": "z"}]),
        DefinePrevUserUtteredFeaturization(True),
        DefinePrevUserUtteredFeaturization(False),
    ):
        incremental.update(event)
        rasa.update(event)
        _same_everywhere(incremental, rasa, domain, rule_only_data)


def test_another_domain_starts_over(domain, rule_only_data):
    incremental = IncrementalTracker("someone", domain.slots)
    for event in _random_conversation(domain, 7, length=30):
        incremental.update(event)
    first = incremental.past_states(domain)
    other = Domain.load(PROJECT_ROOT / "domain.yml")
    assert incremental.past_states(other) == first
    assert incremental._states_so_far[(False, False, None)].domain is other


def test_the_tracker_store_hands_out_incremental_trackers(domain, tmp_path):
    import asyncio

    from bot.tracker_store import CachingSQLTrackerStore

    store = CachingSQLTrackerStore(domain, db=str(tmp_path / "tracker.db"))

    async def scenario() -> tuple[DialogueStateTracker, DialogueStateTracker | None]:
        created = await store.create_tracker("someone")
        created.update(
            UserUttered("bonjour", {"name": next(iter(domain.intents)), "confidence": 1.0})
        )
        await store.save(created)
        store._saved.clear()  # read back from the database, not from memory
        return created, await store.retrieve("someone")

    created, read_back = asyncio.run(scenario())
    assert isinstance(created, IncrementalTracker)
    assert isinstance(read_back, IncrementalTracker)
    assert read_back.applied_events() == created.applied_events()
