# Insurance needs-discovery assistant — every command a developer or CI needs.
# `make help` lists the targets (each documented by its `## ` comment).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
# Built llama-cpp-python wheels are kept here so a second install does not compile again.
WHEEL_DIR ?= $(HOME)/.cache/insurance-assistant/wheels
LLAMA_CPP_VERSION := $(shell sed -n -E 's/^llama[-_]cpp[-_]python==//ip' requirements/app.txt)

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

# ---------------------------------------------------------------- environments

# llama.cpp is compiled for the machine (-march=native) but without its AMX kernels: on
# Sapphire Rapids virtual machines they crash in the first decode of a Q4_K model (segfault in
# ggml_backend_amx_mul_mat, llama.cpp issue 20824), which the offline Gemma model is. AVX-512 and
# VNNI stay. The flags are part of the build's name, so a wheel built otherwise is not reused.
LLAMA_CFLAGS := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_WHEEL_DIR := $(WHEEL_DIR)/llama-cpp-python-$(LLAMA_CPP_VERSION)-noamx
LLAMA_WHEEL_STAMP := $(LLAMA_WHEEL_DIR)/.built

# Built once per version and machine, in parallel with the rest of the installs (make -j).
$(LLAMA_WHEEL_STAMP):
	@if ! ls $(LLAMA_WHEEL_DIR)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) once (about 7 minutes), kept in $(LLAMA_WHEEL_DIR)"; \
		build=$$(mktemp -d) && \
		CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" \
		$$(scripts/find-python 3.11) -m pip wheel --quiet --no-deps --no-cache-dir \
			llama-cpp-python==$(LLAMA_CPP_VERSION) -w $$build && \
		mkdir -p $(LLAMA_WHEEL_DIR) && mv $$build/llama_cpp_python-*.whl $(LLAMA_WHEEL_DIR)/ && rm -rf $$build; \
	fi
	@mkdir -p $(LLAMA_WHEEL_DIR) && touch $@

# Everything of the lock file but llama-cpp-python, which comes from the built wheel.
$(VENV)/.dependencies: requirements/app.txt
	@test -x $(PY) || $$(scripts/find-python 3.11) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	grep -v -i -E '^llama[-_]cpp[-_]python==' requirements/app.txt > $(VENV)/requirements-no-llama.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements-no-llama.txt
	@touch $@

$(VENV)/.installed: $(VENV)/.dependencies $(LLAMA_WHEEL_STAMP)
	$(PY) -m pip install --quiet --no-deps --force-reinstall --no-index \
		--find-links $(LLAMA_WHEEL_DIR) --only-binary llama-cpp-python llama-cpp-python==$(LLAMA_CPP_VERSION)
	@touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt
	@test -x $(RASA_VENV)/bin/python || $$(scripts/find-python 3.10) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip==24.2
	$(RASA_VENV)/bin/python -m pip install --quiet -r requirements/rasa.txt
	@touch $@

# The deployment checks' own environment (kubernetes-validate wants a jsonschema Rasa refuses).
TOOLS_VENV := .venv-tools

$(TOOLS_VENV)/.installed: requirements/tools.txt
	@test -x $(TOOLS_VENV)/bin/python || $$(scripts/find-python 3.11) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r requirements/tools.txt
	@touch $@

.PHONY: install
install: ## Create or update both environments from the lock files
	@$(MAKE) --no-print-directory -j3 $(VENV)/.installed $(RASA_VENV)/.installed

.PHONY: lock
lock: ## Re-resolve requirements/*.in into the pinned lock files requirements/*.txt
	scripts/lock app 3.11
	scripts/lock rasa 3.10
	scripts/lock tools 3.11

# ---------------------------------------------------------------- running

.PHONY: train
train: install ## Train the Rasa model if config.yml, domain.yml or bot/ changed
	$(PY) -m stack train

.PHONY: run
run: install ## Start the Rasa server, the action server and the web app (Ctrl-C stops them all)
	$(PY) -m stack run

# ---------------------------------------------------------------- checks

.PHONY: lint
lint: $(VENV)/.installed ## Lint and check formatting with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: $(VENV)/.installed ## Format the code and fix what ruff can fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: types
types: $(VENV)/.installed $(RASA_VENV)/.installed ## Type-check with mypy: the packages, then bot/ and channels/ with Rasa
	$(VENV)/bin/mypy
	$(RASA_VENV)/bin/mypy --config-file mypy-rasa.toml

.PHONY: validate
validate: $(RASA_VENV)/.installed ## Validate the Rasa domain and training data
	$(RASA) data validate --fail-on-warnings --config config.yml --domain domain.yml --data bot

.PHONY: rasa-test
rasa-test: train ## Run the Rasa test stories (fails on any prediction error)
	$(RASA) test core --model models/current.tar.gz --stories tests/conversations \
		--fail-on-prediction-errors --out results/core

.PHONY: pytest
pytest: train ## Run the Python tests (unit, integration and slow)
	$(PY) -m pytest

.PHONY: unit
unit: $(VENV)/.installed ## Run only the fast unit tests
	$(PY) -m pytest -m unit

.PHONY: rasa-env-test
rasa-env-test: $(RASA_VENV)/.installed ## Run the tests that need Rasa itself: channel connectors, NLU components
	$(RASA_VENV)/bin/python -m pytest tests/channels tests/bot -p no:cacheprovider -W ignore::DeprecationWarning

.PHONY: bench
bench: train ## Run the benchmarks and print their figures (see docs/benchmarks.md)
	$(PY) -m benchmarks

.PHONY: deploy-check
deploy-check: $(TOOLS_VENV)/.installed ## Render the Kubernetes manifests, validate them and the Compose file (scripts/check-deploy)
	scripts/check-deploy

.PHONY: test
test: install lint types validate deploy-check rasa-test pytest rasa-env-test ## Create or update the environments and run every check and test

.PHONY: widget
widget: ## Rebuild the chat widget bundle (webapp/static/widget/, committed) with npm ci + esbuild
	cd widget && npm ci --no-audit --no-fund && npm run build

# ---------------------------------------------------------------- fine-tuning

.PHONY: finetune-demo
finetune-demo: $(VENV)/.installed ## Fine-tuning demo: data generation → retriever → LoRA → GGUF → report
	$(PY) -m finetune demo

FINETUNE_STEPS ?= 600

.PHONY: finetune
finetune: $(VENV)/.installed ## Fine-tune the generator on the CPU (resumes its run; FINETUNE_STEPS=600), export its GGUF adapter, then make finetune-report
	@ls build/corpus/*/*.pdf >/dev/null 2>&1 || $(PY) -m knowledge.corpus build
	nice -n 10 $(PY) -m finetune lora --base-model gemma3-270m --max-steps $(FINETUNE_STEPS) --eval-every 50
	$(PY) -m finetune export-generator
	$(MAKE) finetune-report

.PHONY: finetune-report
finetune-report: $(VENV)/.installed ## Run what is missing or stale of the fine-tuning evaluation, rewrite docs/finetune-report.md (ARGS=--collect-only, --limit N, --rerun NAME)
	@ls build/corpus/*/*.pdf >/dev/null 2>&1 || $(PY) -m knowledge.corpus build
	nice -n 10 $(PY) -m finetune report $(ARGS)

.PHONY: finetune-gpu-check
finetune-gpu-check: ## QLoRA check on a CUDA machine (scripts/gpu-qlora-check; add ARGS=--dry-run on a CPU)
	scripts/gpu-qlora-check $(ARGS)

.PHONY: clean
clean: ## Remove trained models, test results and runtime state (keeps the environments)
	rm -rf models results .run .pytest_cache .mypy_cache .ruff_cache

# ---------------------------------------------------------------- extractive reader

.PHONY: train-reader
train-reader: $(VENV)/.installed ## Retrain the extractive reader (knowledge/artifacts/reader/), then measure it on the held-out splits
	$(PY) -m knowledge.corpus build
	$(PY) -m knowledge ingest build/corpus --store-dir .run/knowledge-eval --no-progress
	nice -n 10 $(PY) -m knowledge.qa.train --threads 2 $(ARGS)
	$(PY) -m knowledge.qa.evaluate --store-dir .run/knowledge-eval --report docs/knowledge-eval.md

.PHONY: train-reranker
train-reranker: $(VENV)/.installed ## Retrain the cross-encoder reranker (knowledge/artifacts/reranker/), then measure it on the held-out splits
	$(PY) -m knowledge.corpus build
	$(PY) -m knowledge ingest build/corpus --store-dir .run/knowledge-eval --no-progress
	nice -n 10 $(PY) -m knowledge.rerank.train --store-dir .run/knowledge-eval --threads 2 $(ARGS)
	$(PY) -m knowledge.rerank.evaluate --store-dir .run/knowledge-eval --report docs/knowledge-eval.md

.PHONY: train-sentence-selector
train-sentence-selector: $(VENV)/.installed ## Retrain the sentence selector (knowledge/artifacts/sentence-selector/), then measure the chat's answer with it on the held-out splits
	$(PY) -m knowledge.corpus build
	$(PY) -m knowledge ingest build/corpus --store-dir .run/knowledge-eval --no-progress
	nice -n 10 $(PY) -m knowledge.rerank.train --unit sentence --max-length 96 --store-dir .run/knowledge-eval --threads 2 $(ARGS)
	$(PY) -m knowledge.rerank.evaluate --unit sentence --store-dir .run/knowledge-eval --report docs/knowledge-eval.md

.PHONY: train-abstention
train-abstention: $(VENV)/.installed ## Refit the abstention models (knowledge/artifacts/abstention/, float and int8 vectors) and measure them on the held-out splits
# What `auto` pairs on one host: float vectors with the selector in bfloat16 (hardware bfloat16),
# int8 vectors with the selector in float32 (without it). Run it on a CPU with hardware bfloat16:
# emulated (an AMD EPYC without it), the float fit reads a question in seconds, hours in all.
	$(PY) -m knowledge.corpus build
	KNOWLEDGE_EMBEDDING_QUANTIZATION=none $(PY) -m knowledge ingest build/corpus --store-dir .run/knowledge-eval-float --no-progress
	KNOWLEDGE_EMBEDDING_QUANTIZATION=none KNOWLEDGE_SENTENCE_SELECTOR_PRECISION=bfloat16 $(PY) -m knowledge.eval.abstention --store-dir .run/knowledge-eval-float --report docs/knowledge-eval.md
	KNOWLEDGE_EMBEDDING_QUANTIZATION=int8 $(PY) -m knowledge ingest build/corpus --store-dir .run/knowledge-eval-int8 --no-progress
	KNOWLEDGE_EMBEDDING_QUANTIZATION=int8 KNOWLEDGE_SENTENCE_SELECTOR_PRECISION=float32 $(PY) -m knowledge.eval.abstention --store-dir .run/knowledge-eval-int8 --report docs/knowledge-eval.md
