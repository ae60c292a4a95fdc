# Real test control plane (etcd + kube-apiserver) plus kubectl and helm,
# built from Go modules into ~/.cache/storefront (see hack/controlplane/).
# Included by the top-level Makefile.

PYTHON ?= python3
CLUSTER_DIR ?= .cluster
CLUSTER_KUBECONFIG ?= $(CLUSTER_DIR)/kubeconfig
CONTROLPLANE_PY = PYTHONPATH=hack$${PYTHONPATH:+:$$PYTHONPATH} $(PYTHON) -m storefront_dev.controlplane

.PHONY: controlplane-bin cluster-up cluster-down

controlplane-bin: ## Build (or find cached) kube-apiserver, etcd, kubectl, helm
	hack/controlplane/build.sh

cluster-up: controlplane-bin ## Start a background control plane; writes $(CLUSTER_KUBECONFIG)
	$(CONTROLPLANE_PY) up --kubeconfig $(CLUSTER_KUBECONFIG)

cluster-down: ## Stop the background control plane
	$(CONTROLPLANE_PY) down --kubeconfig $(CLUSTER_KUBECONFIG)
