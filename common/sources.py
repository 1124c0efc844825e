"""`SourceRef`: a cited passage, the one shape the knowledge base, the advisor and feedback share.

The knowledge base builds it for each passage an answer draws on; the handoff stores it with a
recommended product; the feedback API receives it back from the widget with a rating. Its bounds
are the feedback API's (the one place a client sends sources) and hold for what the knowledge base
cites: file names, pages counted from 1, passages of one chunk. Frozen, hence hashable.
"""

from pydantic import BaseModel, ConfigDict, Field

MAX_PASSAGE_CHARS = 5_000


def _unset(value: str) -> bool:
    return not value


class SourceRef(BaseModel):
    """A page of a document and the words quoted from it, with the retrieval score when known.

    `product_code` and `section` are known to the knowledge base only; left empty they are left
    out of dumps, so a stored or exported source keeps the four keys it has always had.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    document: str = Field(min_length=1, max_length=300)  # file name, e.g. "vg-auto-ipid.pdf"
    page: int | None = Field(default=None, ge=1, le=100_000)
    passage: str = Field(default="", max_length=MAX_PASSAGE_CHARS)
    score: float | None = None
    product_code: str = Field(default="", exclude_if=_unset)
    section: str = Field(default="", exclude_if=_unset)


def quoted(passage: str) -> str:
    """`passage` as a source can quote it: cut to `MAX_PASSAGE_CHARS` with an ellipsis."""
    if len(passage) <= MAX_PASSAGE_CHARS:
        return passage
    return passage[: MAX_PASSAGE_CHARS - 1].rstrip() + "…"
