# syntax=docker/dockerfile:1
# Postgate in a container: built with the project's toolchain (Rust 1.95 on Debian bookworm)
# by scripts/build-release, the same script CI runs; served from debian:bookworm-slim as an
# unprivileged user, with its data (SQLite database, generated keys) in the /data volume.
#
#   docker build -t postgate .
#   docker run -p 8080:8080 -v postgate-data:/data postgate
#
# compose.yaml runs it with PostgreSQL.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The caches only speed up rebuilds; the binary is copied out of the cached target dir.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    scripts/build-release /usr/local/bin/postgate

FROM debian:bookworm-slim
# libssl3: libpq's TLS; ca-certificates: verifying PostgreSQL servers (sslmode=verify-full).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /data --no-create-home postgate \
    && install -d -m 0700 -o postgate -g postgate /data
COPY --from=build /usr/local/bin/postgate /usr/local/bin/postgate
ENV POSTGATE_DATA_DIR=/data \
    POSTGATE_LISTEN=0.0.0.0:8080 \
    POSTGATE_LOG_FORMAT=json
VOLUME /data
USER postgate
EXPOSE 8080
# `postgate healthcheck` GETs /readyz on the listen address: no curl in the image.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["postgate", "healthcheck"]
ENTRYPOINT ["postgate"]
CMD ["serve"]
