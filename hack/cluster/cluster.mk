# Kubernetes, for real: a single-node cluster in a network namespace of its own
# (hack/storefront_dev/cluster), and the apiserver-only control plane the fast tests use.
# Go programs are built from Go modules into ~/.cache/storefront (hack/cluster/build.sh), images
# with buildah (hack/cluster/images.sh). Included by the top-level Makefile.

PYTHON ?= python3
CLUSTER = PYTHONPATH=hack$${PYTHONPATH:+:$$PYTHONPATH} $(PYTHON) -m storefront_dev.cluster
CLUSTER_KUBECONFIG ?= .cluster/kubeconfig
# What the node and the image builds need from Debian (command -> package).
NODE_PACKAGES := containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
	buildah:buildah debootstrap:debootstrap nft:nftables iptables:iptables conntrack:conntrack \
	nsenter:util-linux

.PHONY: controlplane-bin node-bin skaffold-bin node-packages cluster-up cluster-down cluster-deploy

controlplane-bin: ## Build (or find cached) kube-apiserver, etcd, kubectl, helm
	hack/cluster/build.sh controlplane

node-bin: ## Build (or find cached) the node: kubelet, controller-manager, scheduler, kube-proxy, CoreDNS, Traefik, ...
	hack/cluster/build.sh node

skaffold-bin: ## Build (or find cached) skaffold
	hack/cluster/build.sh skaffold

node-packages: ## Install containerd, runc, CNI plugins, buildah, debootstrap, nftables from Debian (if missing)
	@missing=$$(for entry in $(NODE_PACKAGES); do command -v $${entry%%:*} >/dev/null || [ -e $${entry%%:*} ] \
		|| echo $${entry#*:}; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

cluster-up: $(STAMP) node-packages ## Start a single-node cluster; writes .cluster/kubeconfig and .cluster/env
	$(CLUSTER) up

cluster-down: ## Stop the cluster and remove every process, mount, namespace and rule it made
	$(CLUSTER) down

cluster-deploy: cluster-up ## Build the images, install the operator and the dev Storefront; wait until Ready
	$(CLUSTER) deploy
