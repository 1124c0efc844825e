"""The intent classifier of the pipeline, trained for real on features of the real featurizers."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.e5_featurizer import E5SentenceFeaturizer
from bot.components.linear_intent_classifier import (
    MODEL_FILE,
    ClassifierLoadError,
    LinearIntentClassifier,
)

pytestmark = pytest.mark.unit

EXAMPLES = {
    "ask_advisor": [
        "je veux parler à un conseiller",
        "rappelez-moi demain",
        "un humain svp",
        "pouvez-vous me faire rappeler par un agent ?",
    ],
    "greet": ["bonjour", "salut", "bonsoir madame", "hello"],
    "ask_product_question": [
        "quel est le délai de carence ?",
        "le vol est-il couvert ?",
        "c'est quoi la franchise en auto",
        "comment déclarer un sinistre ?",
    ],
}


class Pipeline:
    """Tokenizer and featurizers as the real pipeline runs them, plus the classifier."""

    def __init__(self, tmp_path):
        self.storage = LocalModelStorage(tmp_path)
        self.context = ExecutionContext(GraphSchema({}), "test")
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        self.words = self._count_vectors({}, "words")
        self.characters = self._count_vectors(
            {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4}, "characters"
        )
        self.dense = E5SentenceFeaturizer(E5SentenceFeaturizer.get_default_config(), "e5")

    def _count_vectors(self, config, name):
        return CountVectorsFeaturizer.create(
            {**CountVectorsFeaturizer.get_default_config(), **config},
            self.storage,
            Resource(name),
            ExecutionContext(GraphSchema({}), name),
        )

    def train(self, config=None):
        data = TrainingData(
            [
                Message(data={TEXT: text, INTENT: intent})
                for intent, texts in EXAMPLES.items()
                for text in texts
            ]
        )
        self.tokenizer.process_training_data(data)
        for featurizer in (self.words, self.characters):
            featurizer.train(data)
            featurizer.process_training_data(data)
        self.dense.process_training_data(data)
        classifier = LinearIntentClassifier.create(
            config or {}, self.storage, Resource("linear"), self.context
        )
        classifier.train(data)
        return classifier

    def featurize(self, text):
        message = Message(data={TEXT: text})
        self.tokenizer.process([message])
        self.words.process([message])
        self.characters.process([message])
        self.dense.process([message])
        return message


@pytest.fixture
def pipeline(tmp_path):
    return Pipeline(tmp_path)


def test_unseen_wordings_get_their_intent_with_a_ranking(pipeline):
    classifier = pipeline.train()
    cases = {
        "est-ce qu'un conseiller peut m'appeler ?": "ask_advisor",
        "bonjour à vous": "greet",
        "les dégâts des eaux sont-ils couverts ?": "ask_product_question",
    }
    messages = [pipeline.featurize(text) for text in cases]
    classifier.process(messages)
    for message, expected in zip(messages, cases.values(), strict=False):
        assert message.get(INTENT)["name"] == expected
        ranking = message.get("intent_ranking")
        assert next(item["name"] for item in ranking) == expected
        assert sum(item["confidence"] for item in ranking) == pytest.approx(1.0)


def test_the_saved_model_predicts_the_same_after_loading(pipeline):
    trained = pipeline.train()
    loaded = LinearIntentClassifier.load({}, pipeline.storage, Resource("linear"), pipeline.context)
    before = trained.process([pipeline.featurize("rappelez-moi vite")])[0]
    after = loaded.process([pipeline.featurize("rappelez-moi vite")])[0]
    assert before.get("intent_ranking") == after.get("intent_ranking")


def test_a_tampered_model_file_is_refused(pipeline, tmp_path):
    import skops.io as sio

    pipeline.train()
    with pipeline.storage.write_to(Resource("linear")) as directory:
        sio.dump({"classifier": Pipeline}, directory / MODEL_FILE)  # an arbitrary class
    with pytest.raises(ClassifierLoadError):
        LinearIntentClassifier.load({}, pipeline.storage, Resource("linear"), pipeline.context)


def test_a_message_without_text_is_left_alone(pipeline):
    classifier = pipeline.train()
    message = Message(data={INTENT: "greet"})
    classifier.process([message])
    assert message.get(INTENT) == "greet"


@pytest.mark.parametrize("change", [{"C": 0}, {"dense_weight": -1}, {"C": "big"}])
def test_bad_configuration_is_refused(pipeline, change):
    with pytest.raises(InvalidConfigException):
        LinearIntentClassifier.create(change, pipeline.storage, Resource("x"), pipeline.context)


def test_a_blank_message_goes_to_the_fallback(pipeline):
    classifier = pipeline.train()
    message = Message(data={TEXT: "   "})
    classifier.process([message])
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 1.0}
