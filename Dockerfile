# netwatch's container image. Two stages:
#   builder  — the Swift toolchain builds a release binary with the Swift runtime and
#              Foundation linked in statically (--static-swift-stdlib), stripped;
#   runtime  — Debian slim with only libcurl and libyaml (and what they depend on), the
#              binary, the CA bundle (copied, so the ca-certificates package and the openssl
#              tool it pulls in stay out), and a non-root user.
# `make test` checks these stages and that the binary runs with only those libraries
# (hack/check-image); CI has no container engine to build the image itself.
#
#   docker build -t ghcr.io/netwatch/netwatch:0.1.0 .

FROM swift:6.3-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libyaml-dev libcurl4-openssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks/Package.swift ./Benchmarks/Package.swift
RUN swift build -c release --static-swift-stdlib --product netwatch \
 && install -s -m 0755 "$(swift build -c release --show-bin-path)/netwatch" /netwatch \
 && /netwatch version

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /netwatch /usr/local/bin/netwatch
# The UID the manifests and the chart run as (runAsUser: 65532).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/netwatch"]
CMD ["operator"]
