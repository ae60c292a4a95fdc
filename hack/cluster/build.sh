#!/usr/bin/env bash
# Build the cluster's Go programs from Go modules (nothing is downloaded from a release site) into a
# cache outside the repo, keyed by version. One set per argument:
#   build.sh [controlplane]  etcd, kube-apiserver, kubectl, helm: the apiserver-only test control plane
#   build.sh node            the control plane plus kubelet, kube-controller-manager, kube-scheduler,
#                            kube-proxy, crictl, CoreDNS, Traefik, local-path-provisioner and the
#                            repository's own pause and registry (hack/cluster/tools)
#   build.sh skaffold        skaffold
#   build.sh promtool        promtool (Prometheus), for the chart's rules tests
#   build.sh jaeger          Jaeger all-in-one (memory storage), the local trace backend
# promtool and jaeger are cached apart from the cluster, in ~/.cache/storefront/<tool>-<version>.
# Prints the set's bin dir (symlinks to each binary) as the last line of stdout; progress goes to
# stderr. Instant when every binary is cached.
set -euo pipefail

K8S_VERSIONS=${K8S_VERSIONS:-"v1.36.3 v1.36.1"}
ETCD_VERSIONS=${ETCD_VERSIONS:-"v3.6.16 v3.6.15 v3.6.14 v3.6.13"}
HELM_VERSIONS=${HELM_VERSIONS:-"v3.22.0 v3.21.4"}
CRICTL_VERSION=v1.37.0
COREDNS_VERSION=v1.14.7
TRAEFIK_VERSION=v3.6.12  # v3.7.x does not build here: 16 of its dependencies are not served
LOCAL_PATH_VERSION=v0.0.30
SKAFFOLD_VERSION=v2.16.1  # v2.17.0 is not served
PROMETHEUS_VERSION=v0.316.0  # Prometheus 3.16.0 (module versions v0.3XX.Y are releases v3.XX.Y)
JAEGER_VERSION=v1.75.0  # newer ones are served but are not approved releases
NODE_COMPONENTS="kubelet kube-controller-manager kube-scheduler kube-proxy"
NODE_PROGRAMS="crictl coredns traefik local-path-provisioner pause registry"

TOOLS_DIR=$(cd "$(dirname "$0")/tools" && pwd)
STOREFRONT_ROOT=${STOREFRONT_CACHE:-$HOME/.cache/storefront}
CACHE_ROOT=$STOREFRONT_ROOT/controlplane
# Each binary is built once per version into BUILD_ROOT, then linked into a set's bin dir.
BUILD_ROOT=$CACHE_ROOT/build
WORK_ROOT=$CACHE_ROOT/work
TIMES_FILE=$CACHE_ROOT/build-times.log
NICE=${NICE:-nice -n 10}
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"

log() { echo "build.sh: $*" >&2; }

first() { echo "$1"; }

key_for() { # k8s etcd helm
    echo "k8s-$1-etcd-$2-helm-$3"
}

has_all() { # dir binaries...
    local dir=$1 b; shift
    for b in "$@"; do
        [[ -x "$dir/$b" ]] || return 1
    done
}

# The preferred key names the first version of each list; if a fallback
# version had to be used, a pointer file records which dir really holds them.
PREFERRED_KEY=$(key_for "$(first $K8S_VERSIONS)" "$(first $ETCD_VERSIONS)" "$(first $HELM_VERSIONS)")
PREFERRED_BIN=$CACHE_ROOT/$PREFERRED_KEY/bin
POINTER=$CACHE_ROOT/$PREFERRED_KEY.resolved
CONTROLPLANE_BINARIES="kube-apiserver kubectl etcd helm"

cached_bin_dir() {
    if [[ -z "${KUBEBUILDER_ASSETS:-}" ]] && has_all "$PREFERRED_BIN" $CONTROLPLANE_BINARIES; then
        echo "$PREFERRED_BIN"; return 0
    fi
    if [[ -z "${KUBEBUILDER_ASSETS:-}" && -f "$POINTER" ]] && has_all "$(cat "$POINTER")" $CONTROLPLANE_BINARIES; then
        cat "$POINTER"; return 0
    fi
    return 1
}

record_time() { # name version seconds
    mkdir -p "$CACHE_ROOT"
    printf '%s %s %s %ss\n' "$(date -u +%FT%TZ)" "$1" "$2" "$3" >>"$TIMES_FILE"
    log "built $1 $2 in $3s"
}

# Write a throwaway module in $1 (module path storefront.local/build-$2).
new_module() { # dir name
    rm -rf "$1"
    mkdir -p "$1"
    printf 'module storefront.local/build-%s\n\ngo 1.24\n' "$2" >"$1/go.mod"
}

gomod_of() { # module@version -> path of its go.mod in the module cache
    go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'
}

# Go ignores a dependency's replace and exclude lines: copy those of the module being built into the
# throwaway module, as its own build would see them. Replaces pointing at local paths are skipped.
copy_directives() { # module@version (run inside the throwaway module)
    local gomod
    gomod=$(gomod_of "$1")
    [[ -f "$gomod" ]] || { log "no go.mod for $1"; return 1; }
    go mod edit -json "$gomod" | python3 -c '
import json, sys
mod = json.load(sys.stdin)
for rep in mod.get("Replace") or []:
    old, new = rep["Old"], rep["New"]
    if "Version" in new:
        at = "@" + old["Version"] if old.get("Version") else ""
        print("-replace=%s%s=%s@%s" % (old["Path"], at, new["Path"], new["Version"]))
for exc in mod.get("Exclude") or []:
    print("-exclude=%s@%s" % (exc["Path"], exc["Version"]))
' | xargs -r go mod edit
}

# Print "replace k8s.io/X => k8s.io/X v0.N.M" lines for every staging module
# that k8s.io/kubernetes's own go.mod points at ./staging/src.
staging_replaces() { # k8s-version
    local gomod staging="v0.${1#v1.}"
    gomod=$(gomod_of "k8s.io/kubernetes@$1")
    [[ -f "$gomod" ]] || { log "no go.mod for k8s.io/kubernetes@$1"; return 1; }
    grep -E '^[[:space:]]*(replace[[:space:]]+)?k8s\.io/[^[:space:]]+[[:space:]]+=>[[:space:]]+\./staging/src/' "$gomod" \
        | sed -E 's/^[[:space:]]*(replace[[:space:]]+)?(k8s\.io\/[^[:space:]]+).*/\2/' \
        | sort -u \
        | while read -r mod; do echo "replace $mod => $mod $staging"; done
}

k8s_ldflags() { # version
    local v=$1 minor pkg flags=""
    minor=$(echo "$v" | cut -d. -f2)
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    echo "-s -w$flags"
}

go_build() { # name version out dir package ldflags
    local name=$1 v=$2 out=$3 dir=$4 package=$5 ldflags=$6 start
    mkdir -p "$(dirname "$out")"
    start=$(date +%s)
    log "building $name $v"
    # GO_BUILD_TAGS: set by a caller that leaves parts of a program out.
    (cd "$dir" && $NICE go build -p 2 -trimpath ${GO_BUILD_TAGS:+-tags "$GO_BUILD_TAGS"} -ldflags "$ldflags" \
        -o "$out.tmp" "$package" >&2) || return 1
    mv "$out.tmp" "$out"
    record_time "$name" "$v" $(($(date +%s) - start))
}

build_k8s_binary() { # name version -> path of built binary on stdout
    local name=$1 v=$2 out dir
    out=$BUILD_ROOT/$name-$v/$name
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    dir=$WORK_ROOT/k8s-$v
    if [[ ! -f "$dir/.ready" ]]; then
        new_module "$dir" "k8s"
        staging_replaces "$v" >>"$dir/go.mod" || return 1
        log "k8s $v: $(grep -c '^replace' "$dir/go.mod") staging replaces"
        (cd "$dir" && $NICE go get "k8s.io/kubernetes@$v" \
            "k8s.io/kubernetes/cmd/kube-apiserver@$v" "k8s.io/kubernetes/cmd/kubectl@$v" >&2) || return 1
        touch "$dir/.ready"
    fi
    if [[ ! -f "$dir/.ready-$name" ]]; then
        (cd "$dir" && $NICE go get "k8s.io/kubernetes/cmd/$name@$v" >&2) || return 1
        touch "$dir/.ready-$name"
    fi
    go_build "$name" "$v" "$out" "$dir" "k8s.io/kubernetes/cmd/$name" "$(k8s_ldflags "$v")" || return 1
    echo "$out"
}

build_etcd() { # version
    local v=$1 out dir
    out=$BUILD_ROOT/etcd-$v/etcd
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    dir=$WORK_ROOT/etcd-$v
    new_module "$dir" "etcd"
    (cd "$dir" && $NICE go get "go.etcd.io/etcd/server/v3@$v" >&2) || return 1
    go_build etcd "$v" "$out" "$dir" "go.etcd.io/etcd/server/v3" "-s -w" || return 1
    echo "$out"
}

helm_ldflags() { # helm-version k8s-minor
    local flags="-s -w -X helm.sh/helm/v3/internal/version.version=$1"
    flags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    flags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1"
    flags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$2"
    flags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
    flags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$2"
    echo "$flags"
}

build_helm() { # helm-version k8s-version
    local v=$1 minor out dir
    minor=$(echo "$2" | cut -d. -f2)
    out=$BUILD_ROOT/helm-$v-k8s1.$minor/helm
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    dir=$WORK_ROOT/helm-$v
    new_module "$dir" "helm"
    (cd "$dir" && $NICE go get "helm.sh/helm/v3@$v" >&2) || return 1
    go_build helm "$v" "$out" "$dir" "helm.sh/helm/v3/cmd/helm" "$(helm_ldflags "$v" "$minor")" || return 1
    echo "$out"
}

# A program of a published module, built as that module's own build would (its replace/exclude lines).
build_module_program() { # name module version package ldflags -> path on stdout
    local name=$1 module=$2 v=$3 package=$4 ldflags=$5 out dir
    out=$BUILD_ROOT/$name-$v/$name
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    dir=$WORK_ROOT/$name-$v
    new_module "$dir" "$name"
    (cd "$dir" && copy_directives "$module@$v" && $NICE go get "$package@$v" >&2) || return 1
    go_build "$name" "$v" "$out" "$dir" "$package" "$ldflags" || return 1
    echo "$out"
}

# The repository's own programs (hack/cluster/tools), keyed by a digest of their sources.
own_programs_digest() {
    (cd "$TOOLS_DIR" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) \
        | sort | xargs sha256sum | sha256sum | cut -c1-12)
}

build_own_program() { # name -> path on stdout
    local name=$1 digest out
    digest=$(own_programs_digest)
    out=$BUILD_ROOT/$name-$digest/$name
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    go_build "$name" "$digest" "$out" "$TOOLS_DIR" "./cmd/$name" "-s -w" || return 1
    echo "$out"
}

# Try each version in turn; print "version path" of the first that builds.
first_that_builds() { # builder versions...
    local builder=$1 v path; shift
    for v in "$@"; do
        if path=$($builder "$v"); then echo "$v $path"; return 0; fi
        log "FAILED: $builder $v"
        echo "$(date -u +%FT%TZ) FAILED $builder $v" >>"$TIMES_FILE"
    done
    return 1
}

build_apiserver() { build_k8s_binary kube-apiserver "$1"; }
build_kubectl() { build_k8s_binary kubectl "$1"; }

asset() { # name -> path in KUBEBUILDER_ASSETS, if present
    [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/$1" ]] && echo "$KUBEBUILDER_ASSETS/$1"
}

controlplane() {
    local dir
    if dir=$(cached_bin_dir); then echo "$dir"; return 0; fi
    [[ -z "${NO_BUILD:-}" ]] || return 1
    local total_start k8s_v etcd_v helm_v apiserver kubectl etcd helm r
    total_start=$(date +%s)

    if apiserver=$(asset kube-apiserver) && etcd=$(asset etcd); then
        log "using kube-apiserver and etcd from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
        k8s_v=$($apiserver --version | awk '{print $2}')
        etcd_v=v$($etcd --version | awk '/etcd Version/ {print $3}')
    else
        r=$(first_that_builds build_etcd $ETCD_VERSIONS) || { log "etcd: no version built"; return 1; }
        etcd_v=${r%% *}; etcd=${r#* }
        r=$(first_that_builds build_apiserver $K8S_VERSIONS) || { log "kube-apiserver: no version built"; return 1; }
        k8s_v=${r%% *}; apiserver=${r#* }
    fi
    if ! kubectl=$(asset kubectl); then
        # kubectl must match the apiserver's minor; build it at the same version.
        kubectl=$(build_kubectl "$k8s_v") \
            || kubectl=$(build_kubectl "$(first $K8S_VERSIONS)") \
            || { log "kubectl: no version built"; return 1; }
    fi
    if ! helm=$(asset helm); then
        helm_v=""
        for v in $HELM_VERSIONS; do
            if helm=$(build_helm "$v" "$k8s_v"); then helm_v=$v; break; fi
            log "FAILED: helm $v"
        done
        [[ -n "$helm_v" ]] || { log "helm: no version built"; return 1; }
    else
        helm_v=$($helm version --template '{{.Version}}')
    fi

    if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
        dir=$CACHE_ROOT/assets-$(echo "$KUBEBUILDER_ASSETS" | sha256sum | cut -c1-12)/bin
    else
        dir=$CACHE_ROOT/$(key_for "$k8s_v" "$etcd_v" "$helm_v")/bin
    fi
    mkdir -p "$dir"
    ln -sf "$apiserver" "$dir/kube-apiserver"
    ln -sf "$kubectl" "$dir/kubectl"
    ln -sf "$etcd" "$dir/etcd"
    ln -sf "$helm" "$dir/helm"
    [[ -n "${KUBEBUILDER_ASSETS:-}" ]] || echo "$dir" >"$POINTER"
    log "ready in $(($(date +%s) - total_start))s: $dir"
    echo "$dir"
}

link() { # link-path builder args... : build (or find) a binary and link it into a bin dir
    local at=$1 path; shift
    path=$("$@") || return 1
    ln -sf "$path" "$at"
}

# The node components run at the control plane's own Kubernetes version.
node() {
    local cp_dir k8s_v dir b start
    cp_dir=$(controlplane)
    k8s_v=$("$cp_dir/kube-apiserver" --version | awk '{print $2}')
    dir=$CACHE_ROOT/node-$(echo "$cp_dir $k8s_v $CRICTL_VERSION $COREDNS_VERSION $TRAEFIK_VERSION" \
        "$LOCAL_PATH_VERSION $(own_programs_digest)" | sha256sum | cut -c1-12)/bin
    if has_all "$dir" $CONTROLPLANE_BINARIES $NODE_COMPONENTS $NODE_PROGRAMS; then
        echo "$dir"; return 0
    fi
    [[ -z "${NO_BUILD:-}" ]] || return 1
    start=$(date +%s)
    mkdir -p "$dir"
    for b in $CONTROLPLANE_BINARIES; do ln -sf "$(readlink -f "$cp_dir/$b")" "$dir/$b"; done
    for b in $NODE_COMPONENTS; do link "$dir/$b" build_k8s_binary "$b" "$k8s_v" || return 1; done
    link "$dir/pause" build_own_program pause || return 1
    link "$dir/registry" build_own_program registry || return 1
    link "$dir/crictl" build_module_program crictl sigs.k8s.io/cri-tools "$CRICTL_VERSION" \
        sigs.k8s.io/cri-tools/cmd/crictl "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" || return 1
    link "$dir/coredns" build_module_program coredns github.com/coredns/coredns "$COREDNS_VERSION" \
        github.com/coredns/coredns "-s -w" || return 1
    link "$dir/local-path-provisioner" build_module_program local-path-provisioner \
        github.com/rancher/local-path-provisioner "$LOCAL_PATH_VERSION" github.com/rancher/local-path-provisioner \
        "-s -w -X main.VERSION=$LOCAL_PATH_VERSION" || return 1
    link "$dir/traefik" build_module_program traefik github.com/traefik/traefik/v3 "$TRAEFIK_VERSION" \
        github.com/traefik/traefik/v3/cmd/traefik \
        "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" || return 1
    has_all "$dir" $NODE_COMPONENTS $NODE_PROGRAMS || { log "node: a binary did not build"; return 1; }
    log "node binaries ready in $(($(date +%s) - start))s: $dir"
    echo "$dir"
}

skaffold() {
    local dir=$CACHE_ROOT/skaffold-$SKAFFOLD_VERSION/bin
    if has_all "$dir" skaffold; then echo "$dir"; return 0; fi
    [[ -z "${NO_BUILD:-}" ]] || return 1
    mkdir -p "$dir"
    link "$dir/skaffold" build_module_program skaffold github.com/GoogleContainerTools/skaffold/v2 \
        "$SKAFFOLD_VERSION" github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold \
        "-s -w -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=$SKAFFOLD_VERSION" \
        || return 1
    echo "$dir"
}

# A tool that is no part of the cluster, in a cache dir of its own: <tool>-<version>/bin/<tool>.
standalone_tool() { # name module version package ldflags
    local name=$1 v=$3 dir=$STOREFRONT_ROOT/$1-$3
    if has_all "$dir/bin" "$name"; then echo "$dir/bin"; return 0; fi
    [[ -z "${NO_BUILD:-}" ]] || return 1
    local BUILD_ROOT=$dir/build WORK_ROOT=$dir/work TIMES_FILE=$dir/build-times.log
    mkdir -p "$dir/bin"
    link "$dir/bin/$name" build_module_program "$@" || return 1
    echo "$dir/bin"
}

promtool() {
    # Rules need no service discovery: without its plugins promtool leaves out the cloud SDKs (247 of its 1364
    # packages, 34 of its 88 MB), the slowest part of its build.
    local v=$PROMETHEUS_VERSION release GO_BUILD_TAGS=remove_all_sd
    release=${v#v0.}; release=${release:0:1}.${release:1}  # v0.316.0 -> 3.16.0
    standalone_tool promtool github.com/prometheus/prometheus "$v" github.com/prometheus/prometheus/cmd/promtool \
        "-s -w -X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Branch=HEAD"
}

jaeger() {
    standalone_tool jaeger github.com/jaegertracing/jaeger "$JAEGER_VERSION" github.com/jaegertracing/jaeger/cmd/jaeger \
        "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION"
}

main() {
    local set=${1:-controlplane} lock_dir=$CACHE_ROOT
    case "$set" in
        controlplane|node|skaffold) ;;
        promtool) lock_dir=$STOREFRONT_ROOT/promtool-$PROMETHEUS_VERSION ;;
        jaeger) lock_dir=$STOREFRONT_ROOT/jaeger-$JAEGER_VERSION ;;
        *) log "unknown set '$set' (controlplane, node, skaffold, promtool or jaeger)"; return 2 ;;
    esac
    mkdir -p "$lock_dir"
    # Cached: answer at once, even while another caller builds something else.
    if NO_BUILD=1 "$set" 2>/dev/null; then return 0; fi
    # Concurrent callers (make, pytest) share work dirs: one builds, others wait.
    exec 9>"$lock_dir/build.lock"
    flock 9
    "$set"
}

main "$@"
