# herald as a container: a build stage with the Rust toolchain, then a small Debian runtime
# that holds only the binary (migrations and console assets are compiled into it), the shipped
# configuration and CA certificates, run as an unprivileged user. docker-compose.yml builds it.
# Checked with hadolint by scripts/test.sh (no Docker engine is needed for that).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The commit for `herald --version`: read from .git when it is in the context, or given with
# --build-arg HERALD_COMMIT=$(git rev-parse --short HEAD).
ARG HERALD_COMMIT
RUN cargo build --release --locked -p herald --bin herald --features cluster \
    && strip target/release/herald

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/herald --create-home herald
COPY --from=build /src/target/release/herald /usr/local/bin/herald
COPY config /etc/herald
USER 10001
WORKDIR /var/lib/herald
EXPOSE 8080
ENTRYPOINT ["herald", "--config", "/etc/herald/cluster.toml"]
CMD ["serve"]
