# syntax=docker/dockerfile:1
# scim-sql-mapper: the SCIM gateway in a container (docs/deployment.md).
#
#   docker build -t scim-sql-mapper .
#   docker run --rm -p 8080:8080 -e MAPPER_TOKEN=... -e HR_DATABASE_URL=postgresql://... \
#     -v ./examples/hr/hr.map:/etc/mapper/mapping.map:ro -e MAPPER_DIALECT=postgres scim-sql-mapper
#
# Two stages: the first builds wheels of the package and every dependency, the second installs
# them into a clean image without compilers or pip caches, and runs as an unprivileged user.
# The mapping (and TLS files, token files) are mounted at run time, never baked in.
#
# The base is any Debian-like image with python3 (3.11+) and its venv module. The gateway lives in
# a virtual environment, /opt/scim-sql-mapper, as on a host (deploy/mapper.service), so a base
# whose system Python refuses pip (PEP 668: Debian's own python3) serves as well as python:slim.
# Without a registry, deploy/build-offline.sh makes one from Debian's packages and builds with
#
#   podman build --format docker --build-arg PYTHON_IMAGE=localhost/debian-python:bookworm .

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY grammar/ grammar/
COPY mapper/ mapper/
RUN python3 -m venv /tmp/pip \
    && /tmp/pip/bin/pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="scim-sql-mapper" \
      org.opencontainers.image.description="SCIM 2.0 provisioning gateway for SQL databases" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/scim-sql-mapper/scim-sql-mapper"
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python3 -m venv /opt/scim-sql-mapper \
    && /opt/scim-sql-mapper/bin/pip install --no-cache-dir --no-index --find-links=/wheels scim-sql-mapper \
    && groupadd --system --gid 10001 mapper \
    && useradd --system --uid 10001 --gid mapper --home-dir /var/lib/mapper --create-home \
       --shell /usr/sbin/nologin mapper \
    && mkdir -p /etc/mapper
COPY --chmod=0755 deploy/entrypoint.sh /usr/local/bin/mapper-entrypoint
# the HR example, for trying the image (compose.yaml mounts its own copy)
COPY examples/hr/ /usr/share/scim-sql-mapper/examples/hr/

ENV PATH=/opt/scim-sql-mapper/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MAPPER_MAPPING=/etc/mapper/mapping.map \
    MAPPER_HOST=0.0.0.0 \
    MAPPER_PORT=8080
USER mapper:mapper
WORKDIR /var/lib/mapper
EXPOSE 8080
# readiness, not liveness: 503 until the first import is done and while a database is unreachable
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 CMD ["mapper-entrypoint", "healthcheck"]
ENTRYPOINT ["mapper-entrypoint"]
CMD ["serve"]
