"""Robustness sets: held-out questions and perturbed variants of each, measured side by side.

A set is JSONL, in either shape:

- one original per line: `id`, `source` ("own" or "piaf"), `question`, `document`, `page`,
  optional `answer` (the reference), and `variants` ({"typos": "...", "no_accents": "...",
  "paraphrase": "...", …});
- one variant per line: `original` (or `origin`: the original question's text), `variant` (or
  `type`: the perturbation), `question` (the perturbed text), `document`, `page`, optional
  `source`, `answer`, `id`.

Without a set, the originals are the team's test questions and evenly spaced PIAF test
questions (150 in all), with the automatic variants of `finetune.perturb` — typos, no accents,
lower case — and no paraphrase: its fixed-opening rewording is not one, real paraphrases are
written by people.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import DataFileError

AUTOMATIC = ("typos", "no_accents", "lower_case")
DEFAULT_ORIGINALS = 150


@dataclass(frozen=True)
class Original:
    id: str
    source: str
    question: str
    document: str
    page: int
    answer: str | None = None
    variants: dict[str, str] = field(default_factory=dict)


def read_robustness_set(path: Path) -> list[Original]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataFileError(str(path), None, f"cannot read ({exc})") from exc
    originals: dict[str, Original] = {}
    order: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if "variants" in data:
                original = _original(data, data["question"])
                key = original.question
                if key not in originals:
                    order.append(key)
                    originals[key] = original
                originals[key].variants.update(
                    {str(k): str(v) for k, v in data["variants"].items()}
                )
            else:
                text = str(data.get("original") or data["origin"])
                kind = str(data.get("variant") or data["type"])
                if text not in originals:
                    order.append(text)
                    originals[text] = _original(data, text)
                if kind != "original":
                    originals[text].variants[kind] = str(data["question"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataFileError(str(path), number, f"not a robustness entry ({exc})") from exc
    return [originals[key] for key in order]


def _original(data: dict[str, Any], question: str) -> Original:
    from finetune.evaluation import item_id

    source = str(data.get("source", "own"))
    return Original(
        id=str(data.get("id") or item_id(source, question)),
        source=source,
        question=question,
        document=str(data["document"]),
        page=int(data["page"]),
        answer=data.get("answer"),
        variants={},
    )


def automatic_set(resources: Any, size: int = DEFAULT_ORIGINALS) -> list[Original]:
    """The team's test questions, then PIAF test questions up to `size`, with the automatic
    variants."""
    from finetune.eval_sets import evenly_spaced, own_questions, piaf_questions
    from finetune.evaluation import item_id
    from finetune.perturb import VARIANTS

    own = own_questions(resources.manifest, "test")
    piaf = evenly_spaced(
        piaf_questions(resources.piaf, resources.manifest, "test"), max(0, size - len(own))
    )
    originals = [
        Original(item_id("own", q.question), "own", q.question, q.document, q.page, q.answer)
        for q in own
    ]
    originals += [
        Original(r.id, "piaf", r.question.question, r.question.document, r.question.page)
        for r in piaf
    ]
    for original in originals:
        for name in AUTOMATIC:
            original.variants[name] = VARIANTS[name](original.question)
    return originals[:size]


def load_robustness_set(resources: Any, path: Path | None) -> list[Original]:
    return read_robustness_set(path) if path is not None else automatic_set(resources)


def variant_rows(originals: Sequence[Original]) -> list[dict[str, Any]]:
    """One row per original and per variant, each keeping its original's id and page."""
    rows: list[dict[str, Any]] = []
    for original in originals:
        texts = {"original": original.question, **original.variants}
        for variant, text in texts.items():
            rows.append(
                {
                    "id": f"{original.id}:{variant}",
                    "origin": original.id,
                    "variant": variant,
                    "source": original.source,
                    "question": text,
                    "document": original.document,
                    "page": original.page,
                    "reference": original.answer,
                }
            )
    return rows
