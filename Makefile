# Free Chat. The two commands people need: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM ?= npm
INSTALL_STAMP := node_modules/.freechat-install
PACKAGE_FILES := package.json package-lock.json $(wildcard */package.json services/*/package.json)

.PHONY: help install proto build run run-infra infra-provision infra-up infra-down compose-up compose-down test test-compose bench bench-ui bench-images model-tiny clean

help: ## List the targets
	@grep -E '^[a-z0-9.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# `npm install`, not `npm ci`: the registry mirror here has no other-platform optional packages
# (rollup, esbuild), so the lockfile lacks them and `npm ci` refuses it. The lockfile still pins versions.
$(INSTALL_STAMP): $(PACKAGE_FILES)
	$(NPM) install --no-audit --no-fund
	@touch $@

install: $(INSTALL_STAMP) ## Install npm dependencies (offline-safe: see .npmrc)

proto: install ## Generate TypeScript from proto/ (buf + ts-proto)
	$(NPM) run --silent proto

build: proto ## Type-check and compile every workspace (and type-check scripts, benchmarks, tests), build the web UI
	npx tsc -b
	npx tsc -p scripts
	npx tsc -p web-ui
	$(NPM) run --silent build -w web-ui

run: build ## Start Free Chat on its embedded defaults: http://localhost:3000
	node --enable-source-maps --import tsx scripts/run/main.ts

# Free Chat against the real servers of `make infra-up`: two chat and two inference replicas found
# through Consul, runs shared through Redis, domain events through RocketMQ.
run-infra: build infra-up ## Start Free Chat on real Redis, Consul and RocketMQ (2 chat + 2 inference replicas)
	set -a && . $(abspath $(INFRA_ENV)) && set +a && \
	FREECHAT_CHAT_REPLICAS=$${FREECHAT_CHAT_REPLICAS:-2} FREECHAT_INFERENCE_REPLICAS=$${FREECHAT_INFERENCE_REPLICAS:-2} \
	node --enable-source-maps --import tsx scripts/run/main.ts

infra-provision: ## Obtain Redis and Prometheus (apt), Consul and Jaeger (Go builds), RocketMQ and Zipkin (Maven jars), cached by version
	./scripts/infra/provision.sh

INFRA_CLI := node --conditions=freechat-source --import tsx scripts/infra/cli.ts
INFRA_ENV := $(or $(FREECHAT_DATA_DIR),.data)/infra.env

infra-up: install infra-provision ## Start real Redis, Consul, RocketMQ, Prometheus, Jaeger and Zipkin (trace UI) on free ports; endpoints and URLs in .data/infra.env
	$(INFRA_CLI) up

infra-down: install ## Stop what `make infra-up` started
	$(INFRA_CLI) down

# docker compose, as a developer runs it: a Docker engine started if none answers (Linux, root),
# images built, the whole platform up and healthy. Data stays in named volumes across compose-down.
compose-up: ## Free Chat in docker compose (engine, images, PostgreSQL, Redis, Consul, RocketMQ, Prometheus, Jaeger): http://127.0.0.1:3000
	./scripts/containers/compose-up.sh

compose-down: ## Stop the compose stack (keeps its volumes; `scripts/containers/compose.sh down -v` drops them)
	./scripts/containers/compose.sh down

# A local Kubernetes control plane on loopback (etcd, kube-apiserver, controller-manager, scheduler,
# KWOK fake nodes whose pods turn Running/Ready), binaries built once and cached by version.
.PHONY: k8s-provision k8s-up k8s-down k8s-node-provision k8s-node-up k8s-node-down test-k8s-node
K8S_CLI := node --conditions=freechat-source --import tsx scripts/k8s/cli.ts

k8s-provision: ## Obtain etcd, kube-apiserver, controller-manager, scheduler, kubectl, KWOK and helm (Go builds, cached by version)
	./scripts/k8s/provision.sh

k8s-up: install k8s-provision ## Start a local Kubernetes API with KWOK nodes (FREECHAT_K8S_NODES, default 3); writes .data/k8s/kubeconfig. K8S_NODE=real: a real node instead (k8s-node-up)
ifeq ($(K8S_NODE),real)
	$(MAKE) --no-print-directory k8s-node-up
else
	$(K8S_CLI) up
endif

k8s-down: install ## Stop what `make k8s-up` started (and a real node, if one runs)
	$(K8S_CLI) down
	$(K8S_NODE_CLI) down

# A real single-node Kubernetes (needs root): kubelet, containerd, CNI bridge, kube-proxy (nftables),
# CoreDNS; images imported, never pulled. scripts/k8s/README.md, "A real node".
K8S_NODE_CLI := node --conditions=freechat-source --import tsx scripts/k8s/node-cli.ts

k8s-node-provision: ## Obtain what k8s-provision does, and kubelet, kube-proxy, CoreDNS, the pause image, containerd and the CNI plugins
	./scripts/k8s/provision-node.sh >/dev/null

k8s-node-up: install k8s-node-provision ## Start a real single-node Kubernetes; state in .data/k8s-node/, prints export KUBECONFIG=…
	$(K8S_NODE_CLI) up

k8s-node-down: install ## Tear down the real node and restore the machine (bridge, nft tables, cgroups, sysctls, mounts)
	$(K8S_NODE_CLI) down

# Last in `make test`, on its own: it needs root, builds every image, and changes the machine's
# networking while a node runs (skipped, saying so, when not root).
test-k8s-node: install k8s-node-provision ## Real-node tests: pods, DNS, port-forward and a clean teardown; then Free Chat's whole story (helm, sample, chat, scale, rollout, data) on a node
	./scripts/ensure-chromium.sh >/dev/null
	FREECHAT_K8S_NODE_TEST=1 npx vitest run -c test/k8s-node/vitest.config.ts

test: build infra-provision k8s-node-provision ## Run the whole test suite on real servers, a local Kubernetes API and a real node (installs Chromium, the servers, the Kubernetes binaries and a Docker engine if missing)
	./scripts/ensure-chromium.sh >/dev/null
	npx vitest run
	$(MAKE) --no-print-directory test-compose
	$(MAKE) --no-print-directory test-k8s-node

# Last, on its own: it builds every image and runs the whole platform in containers.
test-compose: install ## Build every image and run the compose stack for real (skipped only where no Docker engine can start)
	npx vitest run -c test/compose/vitest.config.ts

bench: build ## Benchmark inference on the Qwen3-0.6B-shaped model; writes docs/benchmarks/inference.md
	$(NPM) run --silent bench:inference

bench-images: install ## Build every image, measure its size and start time; writes docs/benchmarks/images.md
	$(NPM) run --silent bench:images

bench-ui: build ## Benchmark the web UI in Chromium; writes docs/benchmarks/ui.md
	./scripts/ensure-chromium.sh >/dev/null
	$(NPM) run --silent bench:ui

model-tiny: install ## Build the built-in tiny model into .data/models/tiny
	$(NPM) run --silent model:build -- --preset tiny --out .data/models/tiny

clean: ## Remove build output (keeps .data and node_modules)
	rm -rf proto/gen services/*/dist proto/dist web-ui/dist $(shell find . -name '*.tsbuildinfo' -not -path './node_modules/*')
