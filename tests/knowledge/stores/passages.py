"""The passages the store tests put in a store, and how they put them (also used by the
evaluation tests and by a child process of the crash test)."""

from knowledge.interfaces import Chunk, DocumentStore, StoredDocument, Vector
from tests.knowledge.fakes import HashingEmbedder

EMBEDDER = HashingEmbedder()

PASSAGES = {
    "cg-auto.pdf": ("VG-AUTO", "auto", [
        "La résiliation du contrat auto est possible à tout moment après un an.",
        "Le bris de glace est couvert par les formules intermédiaire et tous risques.",
        "Le vol du véhicule est garanti en cas d'effraction.",
    ]),
    "cg-habitation.pdf": ("VG-HABITATION", "habitation", [
        "Les dégâts des eaux sont couverts, fuite ou débordement.",
        "Le vol au domicile est garanti après effraction constatée.",
        "Vous pouvez résilier votre contrat habitation lors d'un déménagement.",
    ]),
    "faq-sante.md": ("VG-SANTE", "sante", [
        "Les lunettes sont remboursées selon la formule choisie.",
        "Le tiers payant évite l'avance des frais chez le pharmacien.",
    ]),
}  # fmt: skip


def chunks_of(document: str, version: str = "v1") -> list[Chunk]:
    product, category, texts = PASSAGES[document]
    return [
        Chunk(
            chunk_id=f"{document}#{version}-{index}",
            document=document,
            page=index + 1,
            text=text if version == "v1" else f"{text} ({version})",
            section="Conditions",
            product_code=product,
            category=category,
            metadata={"title": f"Conditions {product}", "version": version},
        )
        for index, text in enumerate(texts)
    ]


def put(store: DocumentStore, document: str, version: str = "v1") -> list[Chunk]:
    chunks = chunks_of(document, version)
    store.replace_document(
        StoredDocument(document, f"hash-{version}", f"/docs/{document}", len(chunks)),
        chunks,
        EMBEDDER.embed_passages([chunk.text for chunk in chunks]),
    )
    return chunks


def query_vector(text: str) -> Vector:
    vector: Vector = EMBEDDER.embed_queries([text])[0]
    return vector
