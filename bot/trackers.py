"""Dialogue state trackers that extend, instead of rebuild, what Rasa derives from their events.

Rasa's `DialogueStateTracker` works out its applied events (the events left once reverts,
restarts and loop re-entries are taken into account) and the states the policies read by
replaying the whole conversation, on every call. The Memoization and Rule policies ask for the
states on each prediction, the processor, the forms and the action calls ask for the applied
events, several times a turn: a late turn of a long conversation spends much of the Rasa server's
time replaying events it has already replayed (docs/benchmarks.md, issue 20).

`IncrementalTracker` computes the same values, keeps them beside the very event objects they were
derived from, and on the next call replays only the events added since:

- the applied events, extended event by event (the same rules as Rasa's);
- the states, kept up to the conversation's latest user message and replayed from there: the
  latest message is the only event later events change in place (`EntitiesAdded`,
  `DefinePrevUserUtteredFeaturization`), so the states before it never change again.

Any other change to the events (one of them replaced, as redaction does; history cut by a
`max_event_history`; a loop name seen for the first time, which changes how earlier events apply)
starts the replay over from the first event, as Rasa does. The tracker store hands these trackers
out (bot/tracker_store.py); tests/bot/test_trackers.py checks that they give exactly Rasa's
values on every story, rule and test conversation of the project.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# (omit_unset_slots, ignore_rule_only_turns, rule-only data as a hashable value)
_StatesKey = tuple[bool, bool, Any]


@dataclasses.dataclass
class _AppliedEvents:
    """The applied events of `events`, a copy of the tracker's events when they were worked out."""

    events: list[Event]
    loop_names: frozenset[str]
    applied: list[Event]


@dataclasses.dataclass
class _StatesSoFar:
    """The states of the first `len(applied)` applied events, and the replay where they end."""

    domain: Domain
    applied: list[Event]
    replay: DialogueStateTracker
    states: list[State]
    # What the rule-only filtering carries from one state to the next (see `_add_state`).
    last_ml_action: Any = None
    turn_was_hidden: bool = False


class IncrementalTracker(DialogueStateTracker):
    """A `DialogueStateTracker` that extends its applied events and past states (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._applied_so_far: _AppliedEvents | None = None
        self._states_so_far: dict[_StatesKey, _StatesSoFar] = {}

    def applied_events(self) -> list[Event]:
        """Rasa's applied events, extended from the previous call's when only events were added."""
        return list(self._applied())

    def past_states(
        self,
        domain: Domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        """Rasa's past states (`Domain.states_for_tracker_history`), replaying only the turn
        of the latest user message and what came after it when earlier turns were seen before."""
        if type(domain).states_for_tracker_history is not Domain.states_for_tracker_history:
            # A domain with its own state logic: Rasa's way, whole.
            return super().past_states(
                domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data
            )
        key = (
            omit_unset_slots,
            ignore_rule_only_turns,
            _hashable(rule_only_data) if ignore_rule_only_turns else None,
        )
        applied = self._applied()
        known = self._states_so_far.get(key)
        if known is None or known.domain is not domain or not _starts_with(applied, known.applied):
            known = _StatesSoFar(domain, [], self.init_copy(), [])
        tail = applied[len(known.applied) :]
        latest_user = max(
            (index for index, event in enumerate(tail) if isinstance(event, UserUttered)),
            default=None,
        )
        replay = _replay_copy(known.replay)
        states = list(known.states)
        carried = (known.last_ml_action, known.turn_was_hidden)
        kept = known
        for index, event in enumerate(tail):
            if index == latest_user:
                kept = _StatesSoFar(
                    domain,
                    known.applied + tail[:index],
                    _replay_copy(replay),
                    list(states),
                    *carried,
                )
            if isinstance(event, ActionExecuted):
                carried = _add_state(
                    domain, replay, event.hide_rule_turn, states, carried, key, rule_only_data
                )
            replay.update(event)
        _add_state(domain, replay, False, states, carried, key, rule_only_data)
        self._states_so_far[key] = kept
        return _copy_states(states)

    def _applied(self) -> list[Event]:
        """The applied events (the list kept between calls: callers get a copy)."""
        known = self._applied_so_far
        if known is not None and _starts_with(self.events, known.events):
            added = list(islice(self.events, len(known.events), None))
            if not any(_new_loop_name(event, known.loop_names) for event in added):
                for event in added:
                    self._apply(event, known.applied, known.loop_names)
                known.events.extend(added)
                return known.applied
        events = list(self.events)
        loop_names = frozenset(
            event.name for event in events if isinstance(event, ActiveLoop) and event.name
        )
        applied: list[Event] = []
        for event in events:
            self._apply(event, applied, loop_names)
        self._applied_so_far = _AppliedEvents(events, loop_names, applied)
        return applied

    def _apply(self, event: Event, applied: list[Event], loop_names: frozenset[str]) -> None:
        """One event's effect on the applied events, as `DialogueStateTracker.applied_events`."""
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            # The message goes, and the action_listen before it.
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _add_state(
    domain: Domain,
    replay: DialogueStateTracker,
    hide_rule_turn: bool,
    states: list[State],
    carried: tuple[Any, bool],
    key: _StatesKey,
    rule_only_data: dict[str, Any] | None,
) -> tuple[Any, bool]:
    """Appends the state of `replay` to `states` as `Domain.states_for_tracker_history` does for
    each prior tracker; returns what the rule-only filtering carries to the next state."""
    omit_unset_slots, ignore_rule_only_turns, _ = key
    last_ml_action, turn_was_hidden = carried
    if ignore_rule_only_turns:
        # The previous action of the last turn the ML policies see stands in for the rule turns.
        if not turn_was_hidden:
            last_ml_action = domain._get_prev_action_sub_state(replay)
        # A follow-up action or a loop's happy path keeps the turn as it was.
        if not replay.followup_action and replay.latest_action_name != replay.active_loop_name:
            turn_was_hidden = hide_rule_turn
        if turn_was_hidden:
            return last_ml_action, turn_was_hidden
    state = domain.get_active_state(replay, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if last_ml_action:
            state[PREVIOUS_ACTION] = last_ml_action
    states.append(domain._clean_state(state))
    return last_ml_action, turn_was_hidden


def _replay_copy(replay: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of a replay tracker that replaying more events leaves the original untouched.

    What events change in place is copied: the events, the slots, the active loop, and the latest
    message's entities and featurization (`EntitiesAdded` and `DefinePrevUserUtteredFeaturization`
    change the message in place, be it the replay's own empty message before any user message).
    The latest action is replaced, never changed, and stays shared, as the states that hold it are.
    """
    clone = copy.copy(replay)
    clone.events = deque(replay.events, replay.events.maxlen)
    clone.slots = type(replay.slots)((name, copy.copy(slot)) for name, slot in replay.slots.items())
    clone.active_loop = copy.copy(replay.active_loop)
    if replay.latest_message is not None:
        clone.latest_message = copy.copy(replay.latest_message)
        clone.latest_message.entities = list(replay.latest_message.entities)
    return clone


def _copy_states(states: Sequence[State]) -> list[State]:
    """Fresh states for the caller to change, sharing sub-states where Rasa's share them."""
    copies: dict[int, SubState] = {}
    fresh: list[State] = []
    for state in states:
        new: State = {}
        for part, sub_state in state.items():
            same = copies.get(id(sub_state))
            if same is None:
                same = copies[id(sub_state)] = dict(sub_state)
            new[part] = same
        fresh.append(new)
    return fresh


def _starts_with(events: Iterable[Event], prefix: Sequence[Event]) -> bool:
    """Whether `events` begins with the very objects of `prefix`."""
    count = 0
    for event, known in zip(events, prefix, strict=False):
        if event is not known:
            return False
        count += 1
    return count == len(prefix)


def _new_loop_name(event: Event, loop_names: frozenset[str]) -> bool:
    return isinstance(event, ActiveLoop) and bool(event.name) and event.name not in loop_names


def _hashable(value: Any) -> Any:
    """A hashable stand-in for the policies' rule-only data (lists of slot and loop names)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_hashable(item) for item in value)
    return value
