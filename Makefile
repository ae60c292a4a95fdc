# Storefront: `make up` runs the platform locally, `make test` installs what it needs and runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
STAMP := $(VENV)/.installed
# Every Python package of the repository, installed editable into one virtual environment.
PACKAGE_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard services/common/pyproject.toml) \
	$(filter-out services/common/pyproject.toml,$(wildcard services/*/pyproject.toml)) \
	$(wildcard hack/pyproject.toml operator/pyproject.toml))

# The browser tests drive Debian's chromium (storefront_common.testing.browser); Playwright never downloads one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
BROWSER_PACKAGES := chromium:chromium

include hack/cluster/cluster.mk

.PHONY: help venv browser-packages up jaeger jaeger-bin promtool-bin test test-fast bench-products bench-web bench-checkout bench-operator bench-cluster operator lock clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): requirements/*.txt $(addsuffix /pyproject.toml,$(PACKAGE_DIRS))
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check pip==25.3
	$(PIP) install -q -r requirements/dev.txt -c requirements/constraints.txt $(addprefix -e ,$(PACKAGE_DIRS))
	@touch $@

venv: $(STAMP) ## Create the virtual environment and install pinned dependencies

browser-packages: ## Install Debian's chromium for the browser tests (if missing)
	@missing=$$(for entry in $(BROWSER_PACKAGES); do command -v $${entry%%:*} >/dev/null || echo $${entry#*:}; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

up: $(STAMP) ## Run the whole platform on http://127.0.0.1:8080, or $PORT (SQLite in .data/)
	$(PYTHON) -m storefront_dev.runner

JAEGER_UI_PORT ?= 16686
JAEGER_OTLP_HTTP_PORT ?= 4318
JAEGER_OTLP_GRPC_PORT ?= 4317

# Not part of `up`: a first `make up` must not wait for a Go build. A caller that wants Jaeger only when it is
# already built asks `NO_BUILD=1 hack/cluster/build.sh jaeger` (its bin dir, or exit 1 at once).
jaeger: jaeger-bin ## Run Jaeger (traces in memory) on 127.0.0.1 until stopped; prints its UI URL
	@bin=$$(hack/cluster/build.sh jaeger) && \
	echo "Jaeger UI and query API: http://127.0.0.1:$(JAEGER_UI_PORT)/" && \
	echo "Send traces with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$(JAEGER_OTLP_HTTP_PORT) (gRPC: port $(JAEGER_OTLP_GRPC_PORT))" && \
	JAEGER_UI_PORT=$(JAEGER_UI_PORT) JAEGER_OTLP_HTTP_PORT=$(JAEGER_OTLP_HTTP_PORT) JAEGER_OTLP_GRPC_PORT=$(JAEGER_OTLP_GRPC_PORT) \
	exec "$$bin/jaeger" --config hack/jaeger/config.yaml

jaeger-bin: ## Build (or find cached) Jaeger v1.75 all-in-one, in ~/.cache/storefront/jaeger-<version>
	hack/cluster/build.sh jaeger

promtool-bin: ## Build (or find cached) promtool, which checks and tests the chart's alert rules
	hack/cluster/build.sh promtool

test: $(STAMP) browser-packages node-packages controlplane-bin node-bin skaffold-bin promtool-bin ## Install everything (venv, PostgreSQL, the cluster's programs) and run every test
	hack/ensure-postgres.sh
	$(PYTHON) -m storefront_common.testing.postgres -- hack/run-tests.sh

test-fast: $(STAMP) browser-packages ## Every test but the slow groups (control plane, end to end, cluster)
	hack/ensure-postgres.sh
	$(PYTHON) -m storefront_common.testing.postgres -- hack/run-tests.sh -m "not controlplane and not e2e and not cluster"

bench-products: $(STAMP) ## Products listing vs a bare endpoint under the same server; token verification cost
	hack/ensure-postgres.sh
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PYTHON) bench/products/run.py

bench-web: $(STAMP) ## The catalog and product pages vs the JSON listing under the same server
	hack/ensure-postgres.sh
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PYTHON) bench/web/run.py

bench-checkout: $(STAMP) ## Virtual users doing add-to-cart + wallet checkout through the gateway
	hack/ensure-postgres.sh
	$(PYTHON) bench/checkout/run.py

bench-operator: $(STAMP) controlplane-bin ## Apply-to-ready time for 1 and 20 Storefronts; operator RSS
	hack/ensure-postgres.sh
	$(PYTHON) bench/operator/run.py

bench-cluster: $(STAMP) node-packages node-bin ## cluster up, deploy, apply-to-Ready (warm), memory with one Storefront, down
	$(PYTHON) bench/cluster/run.py

operator: $(STAMP) controlplane-bin ## Run the operator on this machine against .cluster/kubeconfig (a server-mode Storefront)
	hack/ensure-postgres.sh
	$(PYTHON) -m storefront_operator.dev --kubeconfig $(CLUSTER_KUBECONFIG)

lock: $(STAMP) ## Re-pin every transitive dependency into requirements/constraints.txt
	$(PIP) freeze --exclude-editable | grep -v '^-e ' > requirements/constraints.txt

clean: ## Stop the cluster, remove the virtual environment and local data
	@if [ -x $(PYTHON) ]; then $(CLUSTER) down; fi
	rm -rf $(VENV) .data .cluster
