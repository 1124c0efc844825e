"""Offline tool: the insurer's documents, kept as Markdown sources and built into real PDF files.

`markdown_source` reads one source (front matter and a small Markdown subset) into blocks;
`pdf_builder` lays the blocks out as an A4 PDF with running headers and footers. Run
`python -m knowledge.corpus build` to build every source under `sources/` into `build/corpus/`,
which `python -m knowledge ingest` then reads like any other documents; the runtime pipeline
never imports this package.
"""
