#!/usr/bin/env bash
# Build kube-apiserver, kubectl, etcd and helm from Go modules into a cache
# outside the repo, keyed by version. Prints the bin dir as the last line of
# stdout; all progress goes to stderr. Instant when the binaries are cached.
set -euo pipefail

K8S_VERSIONS=${K8S_VERSIONS:-"v1.36.3 v1.36.1"}
ETCD_VERSIONS=${ETCD_VERSIONS:-"v3.6.16 v3.6.15 v3.6.14 v3.6.13"}
HELM_VERSIONS=${HELM_VERSIONS:-"v3.22.0 v3.21.4"}

CACHE_ROOT=${STOREFRONT_CACHE:-$HOME/.cache/storefront}/controlplane
# Each binary is built once per version into BUILD_ROOT, then linked into
# the versioned bin dir.
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

has_all() { # dir
    local b
    for b in kube-apiserver kubectl etcd helm; do
        [[ -x "$1/$b" ]] || return 1
    done
}

# The preferred key names the first version of each list; if a fallback
# version had to be used, a pointer file records which dir really holds them.
PREFERRED_KEY=$(key_for "$(first $K8S_VERSIONS)" "$(first $ETCD_VERSIONS)" "$(first $HELM_VERSIONS)")
PREFERRED_BIN=$CACHE_ROOT/$PREFERRED_KEY/bin
POINTER=$CACHE_ROOT/$PREFERRED_KEY.resolved

cached_bin_dir() {
    if [[ -z "${KUBEBUILDER_ASSETS:-}" ]] && has_all "$PREFERRED_BIN"; then
        echo "$PREFERRED_BIN"; return 0
    fi
    if [[ -z "${KUBEBUILDER_ASSETS:-}" && -f "$POINTER" ]] && has_all "$(cat "$POINTER")"; then
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

# Print "replace k8s.io/X => k8s.io/X v0.N.M" lines for every staging module
# that k8s.io/kubernetes's own go.mod points at ./staging/src.
staging_replaces() { # k8s-version
    local gomod staging="v0.${1#v1.}"
    gomod=$(go mod download -json "k8s.io/kubernetes@$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
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

build_k8s_binary() { # name version -> path of built binary on stdout
    local name=$1 v=$2 out dir start
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
    mkdir -p "$(dirname "$out")"
    start=$(date +%s)
    log "building $name $v"
    (cd "$dir" && $NICE go build -p 2 -trimpath -ldflags "$(k8s_ldflags "$v")" \
        -o "$out.tmp" "k8s.io/kubernetes/cmd/$name" >&2) || return 1
    mv "$out.tmp" "$out"
    record_time "$name" "$v" $(($(date +%s) - start))
    echo "$out"
}

build_etcd() { # version
    local v=$1 out dir start
    out=$BUILD_ROOT/etcd-$v/etcd
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    dir=$WORK_ROOT/etcd-$v
    new_module "$dir" "etcd"
    (cd "$dir" && $NICE go get "go.etcd.io/etcd/server/v3@$v" >&2) || return 1
    mkdir -p "$(dirname "$out")"
    start=$(date +%s)
    log "building etcd $v"
    (cd "$dir" && $NICE go build -p 2 -trimpath -ldflags "-s -w" \
        -o "$out.tmp" "go.etcd.io/etcd/server/v3" >&2) || return 1
    mv "$out.tmp" "$out"
    record_time etcd "$v" $(($(date +%s) - start))
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
    local v=$1 minor out dir start
    minor=$(echo "$2" | cut -d. -f2)
    out=$BUILD_ROOT/helm-$v-k8s1.$minor/helm
    if [[ -x "$out" ]]; then echo "$out"; return 0; fi
    dir=$WORK_ROOT/helm-$v
    new_module "$dir" "helm"
    (cd "$dir" && $NICE go get "helm.sh/helm/v3@$v" >&2) || return 1
    mkdir -p "$(dirname "$out")"
    start=$(date +%s)
    log "building helm $v"
    (cd "$dir" && $NICE go build -p 2 -trimpath -ldflags "$(helm_ldflags "$v" "$minor")" \
        -o "$out.tmp" "helm.sh/helm/v3/cmd/helm" >&2) || return 1
    mv "$out.tmp" "$out"
    record_time helm "$v" $(($(date +%s) - start))
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

main() {
    local dir
    if dir=$(cached_bin_dir); then echo "$dir"; return 0; fi
    mkdir -p "$CACHE_ROOT"
    # Concurrent callers (make, pytest) share work dirs: one builds, others wait.
    exec 9>"$CACHE_ROOT/build.lock"
    flock 9
    if dir=$(cached_bin_dir); then echo "$dir"; return 0; fi
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

main "$@"
