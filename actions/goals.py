"""Reading the goals a prospect states ("je veux préparer ma retraite") in any message.

The phrasings are data (`actions/goals.yml`); the goal codes and what answers them are the
catalogue's (`product_catalog/goals.yaml`). `stated_goals` reads a message clause by clause and
ignores a goal whose clause negates it before the match ("je ne veux pas d'assurance vie").
`volunteered` reads the facts of a message as `actions.slot_parsers` does, except those a goal's
words would fake ("préparer ma retraite" is no retirement). `acknowledgement` words what was
understood; `earlier_user_texts` gives the messages said before the current one.
"""

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

from actions.slot_parsers import volunteered_facts
from actions.text import normalize
from product_catalog.goals import goal_label, goals
from product_catalog.vocabulary import PET_SPECIES_LABELS

GOALS_VOCABULARY_FILE = Path(__file__).with_name("goals.yml")


@cache
def _not_facts() -> frozenset[str]:
    with GOALS_VOCABULARY_FILE.open(encoding="utf-8") as file:
        return frozenset(yaml.safe_load(file).get("not_facts_in_goal_phrases") or ())


@cache
def _vocabulary() -> tuple[
    re.Pattern[str], tuple[re.Pattern[str], ...], dict[str, tuple[re.Pattern[str], ...]]
]:
    with GOALS_VOCABULARY_FILE.open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.safe_load(file)
    unknown = set(data["goals"]) - set(goals())
    if unknown:
        raise ValueError(f"actions/goals.yml names unknown goals: {sorted(unknown)}")
    return (
        re.compile(data["clause_breaks"]),
        tuple(re.compile(pattern) for pattern in data["negations"]),
        {code: tuple(re.compile(p) for p in patterns) for code, patterns in data["goals"].items()},
    )


def _negated(prefix: str, negations: tuple[re.Pattern[str], ...]) -> bool:
    return any(negation.search(prefix) for negation in negations)


def stated_goals(text: str) -> list[str]:
    """The goal codes a message states, in the order they are said; negated ones left out."""
    breaks, negations, patterns = _vocabulary()
    found: dict[str, tuple[int, int]] = {}
    for index, clause in enumerate(breaks.split(normalize(text))):
        for code, goal_patterns in patterns.items():
            for pattern in goal_patterns:
                match = pattern.search(clause)
                if match and not _negated(clause[: match.start()], negations):
                    found.setdefault(code, (index, match.start()))
                    break
    return sorted(found, key=found.__getitem__)


def answered_goals(text: str) -> list[str]:
    """The goals of an answer to "what matters most to you": the goals it states, or else the
    topics it names ("ma santé et la retraite")."""
    said = stated_goals(text)
    if said:
        return said
    breaks, negations, _ = _vocabulary()
    found: dict[str, tuple[int, int]] = {}
    for index, clause in enumerate(breaks.split(normalize(text))):
        for code, topic_patterns in _topics().items():
            for pattern in topic_patterns:
                match = pattern.search(clause)
                if match and not _negated(clause[: match.start()], negations):
                    found.setdefault(code, (index, match.start()))
                    break
    return sorted(found, key=found.__getitem__)


@cache
def _topics() -> dict[str, tuple[re.Pattern[str], ...]]:
    with GOALS_VOCABULARY_FILE.open(encoding="utf-8") as file:
        topics: dict[str, list[str]] = yaml.safe_load(file)["topics"]
    unknown = set(topics) - set(goals())
    if unknown:
        raise ValueError(f"actions/goals.yml names unknown goals in topics: {sorted(unknown)}")
    return {code: tuple(re.compile(p) for p in patterns) for code, patterns in topics.items()}


def _without_goal_phrases(text: str) -> str:
    _, _, patterns = _vocabulary()
    masked = normalize(text)
    for goal_patterns in patterns.values():
        for pattern in goal_patterns:
            masked = pattern.sub(" ", masked)
    return masked


def volunteered(text: str) -> dict[str, Any]:
    """The facts stated in a message (`volunteered_facts`), those of `not_facts_in_goal_phrases`
    read only outside the words of a goal."""
    facts = volunteered_facts(text)
    masked = volunteered_facts(_without_goal_phrases(text))
    for slot in _not_facts() & facts.keys():
        if slot in masked:
            facts[slot] = masked[slot]
        else:
            del facts[slot]
    return facts


def merge_goals(known: Any, new: list[str]) -> list[str]:
    """Goals already known (a slot value, maybe None) plus new ones, without repeats."""
    earlier = [code for code in known or () if code in goals()]
    return earlier + [code for code in new if code not in earlier]


def _label(code: str, pets: list[str]) -> str:
    species = [s for s in dict.fromkeys(pets) if s in ("dog", "cat")]
    if code == "pet_costs" and species:
        owned = " et ".join(f"de votre {PET_SPECIES_LABELS[s]}" for s in species)
        return f"couvrir les frais de vétérinaire {owned}"
    return goal_label(code)


def acknowledgement(codes: list[str], pets: list[str] | None = None) -> str:
    """What was understood of the prospect's need, before the questions."""
    labels = [_label(code, pets or []) for code in codes]
    if not labels:
        return (
            "Merci pour ces précisions : je vais vous poser quelques questions pour trouver les "
            "contrats adaptés à votre situation."
        )
    wished = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " et " + labels[-1]
    return f"Vous souhaitez {wished} : je vais vous poser quelques questions."


def earlier_user_texts(tracker: Tracker) -> list[str]:
    """The texts of the user messages before the latest one, oldest first (since a restart)."""
    texts: list[str] = []
    for event in tracker.events:
        if event.get("event") == "restart":
            texts = []
        elif event.get("event") == "user" and not str(event.get("text") or "").startswith("/"):
            texts.append(str(event.get("text") or ""))
    return texts[:-1]
