"""A real single-node Kubernetes cluster on this machine, inside a network namespace of its own.

    python -m storefront_dev.cluster up        # writes .cluster/kubeconfig and .cluster/env
    python -m storefront_dev.cluster deploy    # the operator and the dev Storefront, from images built here
    python -m storefront_dev.cluster down      # leaves no process, mount, namespace, interface or rule
    python -m storefront_dev.cluster restart containerd kubelet

layout (addresses, ports, paths), pki (certificates), components (each process and its
configuration), network (the namespace and the host's firewall table), supervisor (runs the node's
processes inside the namespace), lifecycle (up, down, restart), deploy (the operator and a Storefront), teardown (the sweep).
"""
