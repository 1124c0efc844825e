"""The insurer's documents: Markdown sources kept in the repository, built into real PDF files.

`markdown_source` reads one source (front matter and a small Markdown subset) into blocks;
`pdf_builder` lays the blocks out as an A4 PDF with running headers and footers. Run
`python -m knowledge.corpus build` to build every source under `sources/` into `build/corpus/`.
"""
