# syntax=docker/dockerfile:1
#
# Commissioning Hub: one image, one binary (`hub`), every mode.
#
#   docker build -t commissioning-hub:dev .
#   docker run --rm -p 8080:8080 commissioning-hub:dev                 # embedded: `hub serve`
#   docker run --rm commissioning-hub:dev serve referral               # one service (port 8081)
#   docker run --rm commissioning-hub:dev token --org E08000012 --role commissioner
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts.

ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder

# diesel links against the C client libraries of both backends.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .

# The git commit `hub_build_info` names on /metrics (.git is not in the build context):
#   docker build --build-arg HUB_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
ARG HUB_GIT_COMMIT=unknown

# Dependency caching: the cargo registry, git checkouts and the target directory
# live in BuildKit cache mounts, so a rebuild after a source change recompiles
# only the workspace crates. `sharing=locked` because docker compose builds the
# same Dockerfile for five services and may run those builds in parallel.
# The target directory is a cache mount (not part of the layer), so the binary
# is copied out of it within the same RUN.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/app/target,sharing=locked \
    cargo build --release --locked -p hub \
 && install -m 0755 target/release/hub /usr/local/bin/hub

# ---------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

# libpq5 / libsqlite3-0: the shared libraries diesel was linked against.
# ca-certificates: TLS to webhook endpoints, a JWKS URL, managed PostgreSQL/AMQP.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Non-root user with a fixed numeric id, so Kubernetes `runAsNonRoot` can verify it.
ARG HUB_UID=10001
RUN groupadd --system --gid ${HUB_UID} hub \
 && useradd --system --uid ${HUB_UID} --gid hub --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin hub

# The working directory matters: config/default.toml and the embedded mode's
# ./data directory (one SQLite file per service) are resolved relative to it.
WORKDIR /app
COPY --from=builder /usr/local/bin/hub /usr/local/bin/hub
COPY config/ /app/config/
COPY --chmod=0755 infra/docker/healthcheck.sh /usr/local/bin/hub-healthcheck
RUN mkdir -p /app/data && chown hub:hub /app/data

USER ${HUB_UID}:${HUB_UID}

# In a container the listeners must bind every interface (the file default is
# 127.0.0.1). Everything else comes from config/default.toml or HUB__SECTION__KEY.
ENV HUB__SERVER__HOST=0.0.0.0

# 8080 embedded; 8081-8085 referral, competition, contract, finance, notifications.
EXPOSE 8080 8081 8082 8083 8084 8085

# No HEALTHCHECK here, on purpose: the port depends on the subcommand
# (8080 embedded, 8081-8085 per service), so one baked-in check would be wrong
# for most containers, and Kubernetes ignores it in favour of its probes.
# We also do not install curl (extra packages and CVEs for one probe): the
# image ships /usr/local/bin/hub-healthcheck (bash /dev/tcp, no dependencies),
# which docker-compose.yml calls per service with the right port, e.g.
#   hub-healthcheck 8081 /health/ready
ENTRYPOINT ["hub"]
CMD ["serve"]
