# syntax=docker/dockerfile:1
# llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) on Python 3.11, from the
# lock file deploy/docker/llm-server.txt (llama-cpp-python[server], the version of
# requirements/app.txt). The GGUF model is not in the image: it is mounted read-only at /models.
#   docker build -f deploy/docker/llm-server.Dockerfile -t vergemont/llm-server:VERSION .
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---------------------------------------------------------------- llama-cpp-python wheel
FROM ${PYTHON_IMAGE} AS llama-wheel
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/llm-server.txt /tmp/llm-server.txt
# Portable build without AMX (see actions.Dockerfile); override for a given CPU fleet.
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
RUN version=$(sed -n -E 's/^llama[-_]cpp[-_]python==//ip' /tmp/llm-server.txt) \
    && test -n "$version" \
    && CMAKE_ARGS="$LLAMA_CMAKE_ARGS" pip wheel --no-deps --no-cache-dir \
        "llama-cpp-python==$version" -w /wheels

# ---------------------------------------------------------------- the Python environment
FROM ${PYTHON_IMAGE} AS dependencies
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
COPY deploy/docker/llm-server.txt /tmp/llm-server.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install pip==25.3 \
    && grep -v -i -E '^llama[-_]cpp[-_]python==' /tmp/llm-server.txt > /tmp/no-llama.txt \
    && /opt/venv/bin/pip install -r /tmp/no-llama.txt
COPY --from=llama-wheel /wheels /wheels
RUN /opt/venv/bin/pip install --no-deps --no-index /wheels/llama_cpp_python-*.whl

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app
COPY --from=dependencies /opt/venv /opt/venv
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/entrypoint
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/home/app
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=300s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v1/models', timeout=8)"]
ENTRYPOINT ["entrypoint"]
CMD ["python", "-m", "llama_cpp.server", "--model", "/models/model.gguf", "--host", "0.0.0.0", "--port", "8080"]
