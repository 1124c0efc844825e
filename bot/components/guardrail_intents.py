"""Guardrail intents that do not depend on the classifier's mood.

Some requests must always get the same answer, whatever else the message says: help with insurance
fraud is refused (`ask_fraud`), a request for a commitment the assistant cannot give (a price, an
acceptance, a guarantee, a contract signed, validated or cancelled) is explained as the advisor's
(`ask_quote`), and a request for somebody else's data is refused (`ask_instructions`). The
classifier learns these intents from examples; this component, placed after it and after the
FallbackClassifier, sets them when one of the phrasings of `actions/guardrails.yml` is found in the
message (normalised: lower case, accents folded), so that such a message never starts the needs
discovery or reads as an answer. Fraud wins over a commitment, a commitment over a data request.
The same patterns are the answer action's safety net (actions/answer.py).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Pattern group of actions/guardrails.yml → the intent it sets, in order of precedence.
GROUPS = (("fraud", "ask_fraud"), ("commitment", "ask_quote"), ("others_data", "ask_instructions"))
MAX_CHARS = 2_000  # longer messages are read on their first characters only


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


def normalize(text: str) -> str:
    """As the actions read text (actions/text.py): lower case, accents folded, apostrophes
    straightened, control characters and odd spaces made spaces, spaces collapsed."""
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in text)
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.translate(_APOSTROPHES).replace("œ", "oe").replace("æ", "ae")
    return re.sub(r"\s+", " ", folded).strip()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class GuardrailIntents(GraphComponent):
    """Sets `ask_fraud`, `ask_quote` or `ask_instructions` when a guardrail phrasing is found."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"patterns_file": "actions/guardrails.yml"}

    def __init__(self, groups: list[tuple[str, tuple[re.Pattern[str], ...]]]) -> None:
        self.groups = groups

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GuardrailIntents:
        return cls(read_groups(Path(config["patterns_file"])))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = self.intent_of(str(message.get(TEXT) or ""))
            if intent is None:
                continue
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != intent
            ]
            chosen = {"name": intent, "confidence": 1.0}
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
        return messages

    def intent_of(self, text: str) -> str | None:
        """The guardrail intent of a message, or None when none of the phrasings is found."""
        if text.startswith("/"):
            return None  # a button's payload names its intent itself
        normalized = normalize(text[:MAX_CHARS])
        for intent, patterns in self.groups:
            if any(pattern.search(normalized) for pattern in patterns):
                return intent
        return None


def read_groups(path: Path) -> list[tuple[str, tuple[re.Pattern[str], ...]]]:
    """The compiled pattern groups of the guardrails file, in order of precedence."""
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [
            (intent, tuple(re.compile(pattern) for pattern in data[group]))
            for group, intent in GROUPS
        ]
    except (OSError, KeyError, TypeError, re.error, yaml.YAMLError) as error:
        raise InvalidConfigException(
            f"GuardrailIntents: cannot read the patterns of {path}: {error}"
        ) from error
