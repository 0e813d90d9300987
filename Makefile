# metrics-proxy: `make demo` shows it working, `make test` proves it. Both build the local control
# plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) and the node agents
# (kubelet, kube-proxy) from the Go module proxy into bin/ the first time, which takes minutes and
# says so.

SHELL   := /usr/bin/env bash
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 30s
# IMAGE is what `make docker-build` tags; deploy/base uses the placeholder metrics-proxy:latest.
IMAGE   ?= metrics-proxy:latest
DOCKER  ?= docker

.PHONY: all build image docker-build test unit e2e demo bench control-plane prometheus haproxy node-runtime fuzz vet fmt clean help

all: build

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## Build bin/metrics-proxy
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/metrics-proxy ./cmd/metrics-proxy

image: build ## Build the image IMAGE as an OCI archive bin/metrics-proxy-image.tar, without Docker (load: ctr -n k8s.io images import)
	$(GO) run ./e2e/image/mkimage -binary bin/metrics-proxy -ref $(IMAGE) -o bin/metrics-proxy-image.tar

docker-build: ## Build the container image IMAGE (needs docker or DOCKER=another docker-compatible CLI)
	$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

control-plane: ## Build the local control plane, kubelet and kube-proxy into bin/ (once; cached after that)
	@bash hack/build-control-plane.sh

prometheus: ## Build Prometheus and the Prometheus Operator into bin/ (once; the e2e and the demo run them)
	@bash hack/build-control-plane.sh prometheus prometheus-operator

haproxy: ## Make sure the distribution's haproxy (2.6) is installed (apt-get when root) and build HAProxy 3.0 into bin/
	@bash hack/ensure-haproxy.sh
	@bash hack/build-control-plane.sh haproxy

node-runtime: ## Make sure containerd, runc, the CNI plugins, iptables and conntrack are installed (apt-get when root)
	@bash hack/ensure-node-runtime.sh

# TEST_TIMEOUT bounds each test binary; e2e/cluster brings up real nodes several times.
TEST_TIMEOUT ?= 30m

# e2e/attack measures serve's memory under attack, which the race detector multiplies: it is built
# without -race (its files say !race) and runs on its own after the rest.
test: control-plane prometheus haproxy node-runtime vet ## Run every test: under the race detector, then the attack on serve without it (real nodes when root)
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./e2e/attack/

unit: ## Run the tests that need no control plane and no haproxy (they skip the others)
	$(GO) test ./...

# FUZZ_TARGETS: package:target pairs that `make fuzz` runs; a target that does not exist fails.
FUZZ_TARGETS := ./webhook/manifest:FuzzRead ./webhook/haproxy:FuzzParse ./webhook/policy:FuzzValidateConfig

fuzz: ## Fuzz every parser for FUZZTIME each
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; \
	  $(GO) test -list '^Fuzz' $$pkg | grep -qx "$$fn" || { echo "fuzz: no $$fn in $$pkg" >&2; exit 1; }; \
	  echo "fuzz: $$pkg $$fn for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# E2E_PACKAGES: the seed procedure executed for real (e2e/seed), the demo run to its end and
# interrupted (e2e), and the seed procedure on real nodes: kubelet, containerd, runc, kube-proxy, the
# webhook installed from deploy/ as pods, faults (e2e/cluster; needs root, containerd, runc and the
# CNI plugins, which .ci/run installs). `make test` runs them too, as part of ./...
E2E_PACKAGES := ./e2e ./e2e/seed ./e2e/cluster

e2e: control-plane prometheus haproxy node-runtime ## Run the seed procedure for real: on a local control plane, and on real nodes (kubelet, containerd) when root
	$(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) $(E2E_PACKAGES)

demo: control-plane prometheus haproxy node-runtime ## The seed procedure executed for real, step by step (on real nodes when root and possible, else the kubelet played), ending with Prometheus's view
	$(GO) run ./e2e/demo -nodes auto

# The scrape part runs the control plane's components and the real haproxy in a network namespace
# of its own (unshare --net: root); without root it is reported as not measured.
bench: control-plane haproxy ## Benchmarks (at most 15 minutes): microbenchmarks, the scrape path through haproxy, webhook latency and throughput, admission end to end, memory; writes docs/benchmarks.md
	$(GO) run ./e2e/bench/run -out docs/benchmarks.md

vet: ## go vet and gofmt
	$(GO) vet ./...
	@unformatted=$$(git ls-files '*.go' | xargs gofmt -l); test -z "$$unformatted" || { echo "gofmt would change: $$unformatted"; exit 1; }

clean: ## Remove bin/ (the control plane is rebuilt next time)
	rm -rf bin
