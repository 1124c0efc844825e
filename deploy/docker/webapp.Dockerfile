# syntax=docker/dockerfile:1
# The web app (FastAPI) on Python 3.11 with requirements/app.txt; also the image of the migration
# job (`alembic upgrade head`). It never imports llama_cpp, so llama-cpp-python (the one package
# of the lock file that is compiled) is left out here; the action server's image has it.
#   docker build -f deploy/docker/webapp.Dockerfile -t vergemont/webapp:VERSION .
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

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

# ---------------------------------------------------------------- the documents' PDFs
FROM dependencies AS corpus
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH
COPY common/ common/
COPY knowledge/ knowledge/
COPY product_catalog/ product_catalog/
RUN python -m knowledge.corpus build --out build/corpus

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations/ migrations/
COPY advisor/ advisor/
COPY common/ common/
COPY feedback/ feedback/
COPY product_catalog/ product_catalog/
COPY webapp/ webapp/
# Served under /documents/ (WEBAPP_DOCUMENTS_DIR's default is build/corpus beside webapp/).
COPY --from=corpus /app/build/corpus build/corpus
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/entrypoint
COPY --chmod=0755 deploy/docker/wait_for_schema.py /usr/local/bin/wait-for-schema
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/app \
    MPLCONFIGDIR=/tmp/matplotlib \
    WEBAPP_HOST=0.0.0.0 \
    WEBAPP_ENVIRONMENT=production
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["entrypoint"]
CMD ["python", "-m", "webapp"]
