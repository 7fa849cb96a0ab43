# syntax=docker/dockerfile:1
# stitch-bridge as a container: `docker build -t stitch-bridge .`, then
# `docker run -p 8700:8700 --env-file bridge.env stitch-bridge`. Configured only by environment
# variables (README.md#settings); see README.md#deployment for replicas, PostgreSQL and sizing.
#
# Stage 1 builds the project's wheels (the bridge, and the Python client its demo site uses) and
# installs them with their dependencies into a virtualenv.
# Stage 2 copies only that virtualenv into a slim Python image and runs it as a user without
# privileges. tests/scale/test_wheel.py builds the same wheel from the same files and starts it.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from; .dockerignore keeps everything else out of the context.
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY stitch_emulator ./stitch_emulator
COPY demo_site ./demo_site
# The Python client is its own distribution; the demo site (`stitch-bridge demo`) uses it.
COPY clients/python ./clients/python
RUN python -m pip wheel --no-deps --wheel-dir /wheels . ./clients/python \
 && python -m venv --without-pip /opt/stitch-bridge \
 && python -m pip --python /opt/stitch-bridge/bin/python install /wheels/stitch_bridge-*.whl \
      /wheels/stitch_bridge_client-*.whl

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/stitch-bridge/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BRIDGE_DATABASE_URL=sqlite+aiosqlite:////data/bridge.db
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid bridge --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin bridge \
 && install -d -o bridge -g bridge -m 0750 /data
COPY --from=build /opt/stitch-bridge /opt/stitch-bridge
WORKDIR /data
USER 10001:10001
EXPOSE 8700
# The image has no curl: Python asks /healthz, and a refusal or any non-2xx answer is unhealthy.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8700/healthz', timeout=3)"]
ENTRYPOINT ["stitch-bridge", "serve", "--host", "0.0.0.0", "--port", "8700"]
