# syntax=docker/dockerfile:1
#
# vpn-operator container image: a static (musl) binary on an empty base image, run as a
# non-root user (uid/gid 65532), ready for a read-only root filesystem.
#
#   docker build -t REGISTRY/vpn-operator:0.1.0 .
#   docker run --rm REGISTRY/vpn-operator:0.1.0 --help
#
# Multi-arch: `docker buildx build --platform linux/amd64,linux/arm64 ...` builds natively in
# each platform's Alpine image (Rust on Alpine targets musl and links statically).

ARG RUST_VERSION=1.89

FROM rust:${RUST_VERSION}-alpine AS build
# ring (TLS) compiles C and assembly; musl-dev provides the static C library and headers.
RUN apk add --no-cache musl-dev ca-certificates
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# --locked: exactly the dependency versions of Cargo.lock. crt-static: a fully static binary
# (the musl default, stated explicitly because the final image has no C library at all).
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin vpn-operator \
 && cp target/release/vpn-operator /vpn-operator \
 && strip /vpn-operator \
 && /vpn-operator --version

FROM scratch
LABEL org.opencontainers.image.title="vpn-operator" \
      org.opencontainers.image.description="Kubernetes operator for Huawei Cloud VPN and CloudOpera IES CloudVPN" \
      org.opencontainers.image.licenses="Apache-2.0"
# CA roots for TLS to the cloud APIs (the binary also bundles its own; this serves any code
# path that reads the system store).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /vpn-operator /usr/local/bin/vpn-operator
# Numeric ids: there is no /etc/passwd in the image; Kubernetes' runAsNonRoot checks the number.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vpn-operator"]
CMD ["run"]
