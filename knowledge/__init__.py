"""Retrieval-augmented answers over the insurer's documents.

The runtime pipeline has one module per stage (readers, cleaning, chunking, embedders, stores,
retrieval, generation, validation, answering), the stage interfaces in `interfaces` and their
assembly in `pipelines`. Offline tools sit in subpackages the runtime never imports: `eval`
(measuring retrieval and answers), `conversion` (the bundled embedding model made loadable) and
`corpus` (the insurer's PDFs built from their sources).
"""
