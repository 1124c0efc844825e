"""`python -m finetune split`: every triplet in the split of its page, refusals apart."""

import json
from pathlib import Path

import pytest

from finetune.data_steps import crossing_pages, step_split
from finetune.errors import FinetuneError
from finetune.pipeline import Workspace, chunk_to_json
from finetune.records import REFUSAL_ANSWER, Provenance, Triplet, read_triplets, write_triplets
from finetune.sources import page_split
from knowledge.eval.splits import SPLITS, Split
from knowledge.interfaces import Chunk

pytestmark = pytest.mark.unit


def pages_by_split() -> dict[Split, list[int]]:
    """Page numbers of "x.pdf" in each split (the manifest's rule decides)."""
    found: dict[Split, list[int]] = {split: [] for split in SPLITS}
    page = 1
    while any(len(pages) < 2 for pages in found.values()):
        found[page_split("x.pdf", page)].append(page)
        page += 1
    return found


def workspace(tmp_path: Path, triplets: list[Triplet]) -> Workspace:
    ws = Workspace(tmp_path)
    chunks = [
        Chunk(f"x.pdf#p{t.provenance.page}-0", "x.pdf", t.provenance.page, t.context)
        for t in triplets
    ]
    ws.path("contexts.jsonl").write_text(
        "".join(json.dumps(chunk_to_json(c)) + "\n" for c in chunks), encoding="utf-8"
    )
    write_triplets(ws.path("dataset", "clean.jsonl"), triplets)
    return ws


def answered(page: int) -> Triplet:
    return Triplet(
        f"Quelle franchise pour la page {page} ?",
        f"La franchise est de {page} €.",
        f"La franchise est de {page} €.",
        Provenance("x.pdf", page, f"x.pdf#p{page}-0", source="templates:amount"),
    )


def refused(page: int, origin: int) -> Triplet:
    return Triplet(
        f"Quelle franchise pour la page {origin} ?",
        f"Le contrat de la page {page} couvre le vol.",
        REFUSAL_ANSWER,
        Provenance("x.pdf", page, f"x.pdf#p{page}-0", origin=f"x.pdf#{origin}"),
    )


class TestSplitStep:
    def test_triplets_follow_their_page_and_refusals_are_apart(self, tmp_path: Path) -> None:
        pages = pages_by_split()
        train, test = pages["train"], pages["test"]
        triplets = [answered(p) for p in (*train, *pages["dev"], *test)]
        triplets.append(refused(train[0], train[1]))
        ws = workspace(tmp_path, triplets)
        summary = step_split(ws, use_handwritten=False)
        for split in SPLITS:
            written, _ = read_triplets(tmp_path / "dataset" / f"{split}.jsonl")
            assert {t.provenance.page for t in written} == set(pages[split])
            assert not any(t.is_refusal for t in written)
        refusals, _ = read_triplets(tmp_path / "dataset" / "train-unanswerable.jsonl")
        assert [t.provenance.page for t in refusals] == [train[0]]
        held, _ = read_triplets(tmp_path / "dataset" / "heldout.jsonl")
        assert {t.provenance.page for t in held} == set(pages["dev"]) | set(test)
        assert summary["counts"]["train"]["refusals"] == 1

    def test_a_refusal_across_the_split_is_refused(self, tmp_path: Path) -> None:
        pages = pages_by_split()
        crossing = refused(pages["train"][0], pages["test"][0])
        ws = workspace(tmp_path, [answered(pages["test"][0]), crossing])
        with pytest.raises(FinetuneError, match="two sides"):
            step_split(ws, use_handwritten=False)

    def test_crossing_pages_names_the_page(self) -> None:
        pages = pages_by_split()
        groups: dict[Split, list[Triplet]] = {split: [] for split in SPLITS}
        groups["train"] = [refused(pages["train"][0], pages["test"][0])]
        groups["test"] = [answered(pages["test"][0])]
        assert crossing_pages(groups) == [f"x.pdf#{pages['test'][0]}"]
