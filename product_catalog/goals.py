"""The goals a prospect states in words ("préparer ma retraite"), as catalogue data.

`goals.yaml` maps each goal code to the categories and needs that answer it, the French label that
completes "Vous souhaitez …" and the reason given for a product chosen for it. The profile accepts
only these codes; the engine ranks a product answering a stated goal first.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from product_catalog.categories import CATEGORY_CODES
from product_catalog.vocabulary import NEED_CODES

GOALS_FILE = Path(__file__).resolve().with_name("goals.yaml")


class GoalsFileError(ValueError):
    """goals.yaml names an unknown category or need, or misses a field."""


@dataclass(frozen=True)
class Goal:
    code: str
    label: str
    categories: frozenset[str]
    needs: frozenset[str]
    reason: str

    def answered_by(self, category: str, needs: tuple[str, ...] | list[str]) -> bool:
        """Whether a product of this category answering these needs answers the goal."""
        return category in self.categories and not self.needs.isdisjoint(needs)


def _read(path: Path) -> dict[str, Goal]:
    with path.open(encoding="utf-8") as file:
        raw = yaml.safe_load(file)["goals"]
    goals: dict[str, Goal] = {}
    for code, entry in raw.items():
        try:
            goal = Goal(
                code=code,
                label=str(entry["label"]),
                categories=frozenset(entry["categories"]),
                needs=frozenset(entry["needs"]),
                reason=" ".join(str(entry["reason"]).split()),
            )
        except (KeyError, TypeError) as error:
            raise GoalsFileError(f"goal {code}: missing or invalid field {error}") from error
        unknown = sorted((goal.categories - CATEGORY_CODES) | (goal.needs - NEED_CODES))
        if unknown or not goal.categories or not goal.needs:
            raise GoalsFileError(f"goal {code}: unknown or empty categories/needs {unknown}")
        goals[code] = goal
    return goals


@cache
def goals() -> dict[str, Goal]:
    """The goals of goals.yaml by code, in the file's order (read once)."""
    return _read(GOALS_FILE)


def goal_label(code: str) -> str:
    return goals()[code].label


def join_labels(codes: list[str]) -> str:
    """ "préparer votre retraite et réduire vos impôts" (French enumeration)."""
    labels = [goal_label(code) for code in codes]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " et " + labels[-1]
