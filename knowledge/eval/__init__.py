"""Offline tool: how well the knowledge base retrieves and answers (never imported at run time).

- `datasets`: the hand-written questions, people's judgments and SQuAD-format files;
- `retrieval`: hit@1, hit@k and MRR@k of BM25, dense and hybrid retrieval
  (`python -m knowledge eval`);
- `answers`: ROUGE-L of the answers against the reference answers (`eval --answers`);
- `report`: the markdown report with its chart (`eval --report FILE.md`);
- `piaf`: an embedder on the PIAF benchmark against a small BM25 baseline
  (`python -m knowledge.eval.piaf`).
"""
