# The metrics-proxy image: a static binary on distroless static, user nonroot (65532), no shell.
# Build with `make docker-build` (IMAGE=name:tag, VERSION=...).

# Build stage: the Go toolchain on the build machine, cross-compiling to the target platform.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/metrics-proxy ./cmd/metrics-proxy

# Final stage: only the binary. No shell, no package manager; the nonroot user of distroless.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/metrics-proxy /metrics-proxy
USER 65532:65532
EXPOSE 9443 8080 8081
ENTRYPOINT ["/metrics-proxy"]
CMD ["serve"]
