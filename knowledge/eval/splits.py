"""The page-level split manifest: which data trains, tunes (dev) and measures (test) the models.

Models trained on the evaluation data (the extractive reader, a reranker, a fine-tuned
generator) must never be measured on a page they were trained on, so the unit of a split is
never the question:

- PIAF (SQuAD v1): by article (`title`), so all the paragraphs of an article, and all their
  questions, fall on one side;
- the team's hand-written questions: by (document, page) they were written from;
- the triplets generated from the documents (`finetune/data/generated*.jsonl`): by the same
  (document, page) rule, so a page is train, dev or test for everything — its hand-written
  questions, its generated questions, and the passages of the refusal examples (a question is
  only ever paired with a passage of its own split);
- the questions the documents do not answer (no page): by their text, dev or test only.

Each unit lands in a split by the SHA-256 of a salt and its key (deterministic: the same data
always gives the same splits, and adding data moves nothing). The manifest records the data
files' hashes so a consumer can tell that the data changed since it was built.

    python -m knowledge.eval.splits build    # writes knowledge/eval/splits.json
    python -m knowledge.eval.splits check    # exit 1 when the data no longer matches it
"""

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from common.hashing import file_sha256
from knowledge.errors import DatasetError

Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")

REPO = Path(__file__).resolve().parents[2]
MANIFEST = Path(__file__).with_name("splits.json")
PIAF_FILE = REPO.parent / "shared/benchmarks/piaf/piaf-v1.0.json"
QUESTION_FILES = (
    REPO / "tests/knowledge/questions/biens.jsonl",
    REPO / "tests/knowledge/questions/personnes.jsonl",
    REPO / "tests/knowledge/questions/dev-extra.jsonl",
    REPO / "tests/knowledge/questions/train-extra.jsonl",
)
UNANSWERABLE_FILE = REPO / "tests/knowledge/unanswerable/questions.jsonl"
GENERATED_FILES = (
    REPO / "finetune/data/generated.jsonl",
    REPO / "finetune/data/generated-unanswerable.jsonl",
)
SALT = "reader-v1"
# Shares of the units in train / dev / test.
PIAF_RATIOS: tuple[float, float, float] = (0.8, 0.1, 0.1)
OWN_RATIOS: tuple[float, float, float] = (0.55, 0.15, 0.3)
UNANSWERABLE_RATIOS: tuple[float, float, float] = (0.0, 0.3, 0.7)


def bucket(key: str, salt: str = SALT) -> float:
    """A number in [0, 1) drawn from the SHA-256 of salt and key (uniform, deterministic)."""
    digest = hashlib.sha256(f"{salt}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(key: str, ratios: tuple[float, float, float], salt: str = SALT) -> Split:
    """The split of one unit."""
    value = bucket(key, salt)
    if value < ratios[0]:
        return "train"
    if value < ratios[0] + ratios[1]:
        return "dev"
    return "test"


def page_key(document: str, page: int) -> str:
    return f"{document}#{page}"


def page_rule(document: str, page: int) -> Split:
    """The split of any page of the insurer's documents, listed in the manifest or not."""
    return assign(page_key(document, page), OWN_RATIOS)


def split_of_key(key: str) -> Split:
    """The split of a "document#page" key (the rule of `page_rule`)."""
    return assign(key, OWN_RATIOS)


def data_file_name(path: Path) -> str:
    """A data file's name in manifests and provenance, whatever the checkout's folder is called:
    relative to the repository, `../shared/…` for the data beside it (links are not followed,
    so a linked `shared` folder keeps its name), absolute elsewhere."""
    absolute = Path(os.path.abspath(path))
    if absolute.is_relative_to(REPO):
        return str(absolute.relative_to(REPO))
    if absolute.is_relative_to(REPO.parent):
        return f"../{absolute.relative_to(REPO.parent)}"
    return str(absolute)


def _piaf_titles(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return sorted({str(article["title"]) for article in data["data"]})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(str(path), None, f"not a readable SQuAD file ({exc})") from exc


def question_lines(path: Path) -> list[dict[str, Any]]:
    """The objects of a question JSONL file, each with its `question`; `DatasetError` names the
    line that is not."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(str(path), None, f"cannot read the file ({exc})") from exc
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(str(path), number, f"not JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise DatasetError(str(path), number, "expected an object with a 'question'")
        items.append(item)
    return items


def _grouped(keys: Iterable[str], ratios: tuple[float, float, float]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {split: [] for split in SPLITS}
    for key in sorted(set(keys)):
        groups[assign(key, ratios)].append(key)
    return groups


def _generated_pages(paths: Sequence[Path]) -> tuple[list[str], dict[Split, int]]:
    """The pages of generated triplets (a refusal's passage and the page its question comes
    from) and the number of triplets per split."""
    pages: list[str] = []
    counts = dict.fromkeys(SPLITS, 0)
    for path in paths:
        for item in question_lines(path):
            provenance = item.get("provenance")
            if not isinstance(provenance, dict):
                raise DatasetError(str(path), None, "a triplet without provenance")
            key = page_key(str(provenance["document"]), int(provenance["page"]))
            pages.append(key)
            origin = provenance.get("origin")
            if origin:
                pages.append(str(origin))
            counts[split_of_key(key)] += 1
    return pages, counts


def build(
    piaf: Path = PIAF_FILE,
    questions: Sequence[Path] = QUESTION_FILES,
    unanswerable: Path = UNANSWERABLE_FILE,
    generated: Sequence[Path] = GENERATED_FILES,
) -> dict[str, Any]:
    """The manifest of the data sets (a JSON-ready dict); generated files that do not exist
    yet are left out."""
    own_pages: list[str] = []
    own_counts = dict.fromkeys(SPLITS, 0)
    for path in questions:
        for item in question_lines(path):
            key = page_key(str(item["document"]), int(item["page"]))
            own_pages.append(key)
            own_counts[assign(key, OWN_RATIOS)] += 1
    unanswerable_items = [str(item["question"]) for item in question_lines(unanswerable)]
    titles = _piaf_titles(piaf)
    present = [path for path in generated if path.is_file()]
    generated_pages, generated_counts = _generated_pages(present)
    return {
        "version": 1,
        "salt": SALT,
        "rule": "unit -> split by sha256(salt, key); PIAF by article title, own questions and "
        "generated triplets by (document, page) with the same ratios, unanswerable questions "
        "by their text",
        "piaf": {
            "file": data_file_name(piaf),
            "sha256": file_sha256(piaf),
            "unit": "article",
            "ratios": list(PIAF_RATIOS),
            "splits": _grouped(titles, PIAF_RATIOS),
        },
        "own": {
            "files": {data_file_name(path): file_sha256(path) for path in questions},
            "unit": "document#page",
            "ratios": list(OWN_RATIOS),
            "question_counts": own_counts,
            "splits": _grouped(own_pages, OWN_RATIOS),
        },
        "unanswerable": {
            "file": data_file_name(unanswerable),
            "sha256": file_sha256(unanswerable),
            "unit": "question",
            "ratios": list(UNANSWERABLE_RATIOS),
            "splits": _grouped(unanswerable_items, UNANSWERABLE_RATIOS),
        },
        "generated": {
            "files": {data_file_name(path): file_sha256(path) for path in present},
            "unit": "document#page",
            "ratios": list(OWN_RATIOS),
            "triplet_counts": generated_counts,
            "splits": _grouped(generated_pages, OWN_RATIOS),
        },
    }


@dataclass(frozen=True)
class Manifest:
    """The committed manifest, read: which split each unit belongs to."""

    data: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path = MANIFEST) -> "Manifest":
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise DatasetError(str(path), None, f"cannot read the split manifest ({exc})") from exc

    def _lookup(self, section: str) -> dict[str, Split]:
        if section not in self.data:
            return {}
        splits: Mapping[str, list[str]] = self.data[section]["splits"]
        return {key: split for split in SPLITS for key in splits.get(split, [])}

    def piaf_split(self, title: str) -> Split | None:
        return self._lookup("piaf").get(title)

    def page_split(self, document: str, page: int) -> Split | None:
        """The split of a page with hand-written questions or generated triplets."""
        key = page_key(document, page)
        return self._lookup("own").get(key) or self._lookup("generated").get(key)

    def unanswerable_split(self, question: str) -> Split | None:
        return self._lookup("unanswerable").get(question)

    def piaf_titles(self, split: Split) -> set[str]:
        return set(self.data["piaf"]["splits"][split])

    def pages(self, split: Split) -> set[str]:
        """The document pages of a split: those of the hand-written questions and of the
        generated triplets."""
        found = set(self.data["own"]["splits"][split])
        if "generated" in self.data:
            found |= set(self.data["generated"]["splits"][split])
        return found

    def unanswerable(self, split: Split) -> list[str]:
        return list(self.data["unanswerable"]["splits"][split])

    def split_digest(
        self, split: Split, sections: Sequence[str] = ("piaf", "own", "unanswerable")
    ) -> str:
        """SHA-256 of the units of one split in these sections: what a model trained on that
        split saw, unchanged when other splits or other sections grow (the file's hash is not)."""
        lines = sorted(
            f"{section}\t{unit}"
            for section in sections
            if section in self.data
            for unit in self.data[section]["splits"][split]
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def held_out_unchanged(self, recorded: Mapping[str, Any]) -> bool:
        """Whether an artifact's recorded `split_manifest` was tuned and measured on today's dev
        and test units (its `dev_digest`, and `test_digest` and `salt` where it records them).

        Then none of its training units is held out today, even if the train split has grown
        since: a unit's split depends only on its key and the salt."""
        if recorded.get("split") != "train":
            return False
        if recorded.get("salt", SALT) != SALT:
            return False
        if recorded.get("dev_digest") != self.split_digest("dev"):
            return False
        return "test_digest" not in recorded or recorded["test_digest"] == self.split_digest("test")

    def hashes(self) -> dict[str, str]:
        """The data files' SHA-256 recorded in the manifest, by file."""
        recorded = {
            self.data["piaf"]["file"]: self.data["piaf"]["sha256"],
            self.data["unanswerable"]["file"]: self.data["unanswerable"]["sha256"],
        }
        recorded.update(self.data["own"]["files"])
        recorded.update(self.data.get("generated", {}).get("files", {}))
        return recorded


def write(manifest: Mapping[str, Any], path: Path = MANIFEST) -> None:
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.eval.splits", description="Build or check the split manifest."
    )
    parser.add_argument("command", choices=("build", "check"))
    parser.add_argument("--out", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)
    try:
        fresh = build()
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "build":
        write(fresh, args.out)
        for section in ("piaf", "own", "unanswerable", "generated"):
            sizes = {split: len(fresh[section]["splits"][split]) for split in SPLITS}
            print(f"{section}: {sizes} units")
        return 0
    try:
        committed = Manifest.load(args.out).data
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if committed != fresh:
        print("error: the data changed since the manifest was built", file=sys.stderr)
        return 1
    print("split manifest up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
