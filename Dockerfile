# A slim image of the gate for Cloud Build steps (and any container runner).
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/smoke-gate:latest .
# It runs as root on purpose: Cloud Build's /workspace volume is root-owned, and the
# gate writes its report there for later steps.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/smoke-gate
COPY pyproject.toml README.md ./
COPY gate ./gate
RUN pip install . && gate --version

WORKDIR /workspace
ENTRYPOINT ["gate"]
CMD ["--help"]
