#!/usr/bin/env bash
# Container images built without a Docker engine: buildah builds the repository's own Dockerfiles on a
# base image made here from Debian packages (debootstrap), passed as a build argument, so an EKS build
# keeps its pinned upstream base. Layers are cached by buildah (an unchanged tree builds nothing);
# archives and imports are keyed by image ID.
#   images.sh base                 make the base image (once per package list); prints its name
#   images.sh build NAME...        build images; prints "NAME REFERENCE" per image
#   images.sh import SOCKET NAME...  build, then import into the containerd at SOCKET (namespace k8s.io)
#   images.sh archive NAME...      build, then write OCI archives; prints "NAME REFERENCE ARCHIVE"
#   images.sh skaffold NAME        skaffold's custom builder: build $IMAGE, push it when $PUSH_IMAGE=true
# NAME: users products carts orders payments web (target runtime, or NAME-dev for the dev target),
# paystack-simulator, operator, postgresql; and the cluster's own: pause coredns traefik
# local-path-provisioner (a binary from hack/cluster/build.sh node on an empty image).
# Progress goes to stderr.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${STOREFRONT_CACHE:-$HOME/.cache/storefront}/images
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The base of every Python image: what python:3.11-slim gives the Dockerfiles, from Debian.
BASE_PACKAGES=python3,python3-venv,python-is-python3,ca-certificates,tini
REGISTRY=storefront.local
SERVICES="users products carts orders payments web"
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}  # RUN steps: this VM's hybrid cgroups defeat the OCI runtime
export STORAGE_DRIVER=${STORAGE_DRIVER:-overlay}

log() { echo "images.sh: $*" >&2; }

key() { echo "$*" | sha256sum | cut -c1-12; }

base_name() { echo "$REGISTRY/base:$SUITE-$(key "$SUITE $MIRROR $BASE_PACKAGES")"; }

has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

base() {
    local name rootfs start container mount
    name=$(base_name)
    if has_image "$name"; then echo "$name"; return 0; fi
    rootfs=$CACHE/rootfs-${name##*:}
    if [[ ! -f "$rootfs/.complete" ]]; then
        start=$(date +%s)
        log "debootstrap $SUITE ($BASE_PACKAGES) into $rootfs"
        rm -rf "$rootfs"
        mkdir -p "$rootfs"
        nice -n 10 debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >&2
        # What a runtime provides per container, and what an image should not carry.
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
        : >"$rootfs/etc/resolv.conf"
        : >"$rootfs/etc/hostname"
        touch "$rootfs/.complete"
        log "rootfs ready in $(($(date +%s) - start))s"
    fi
    container=$(buildah from scratch)
    mount=$(buildah mount "$container")
    tar -C "$rootfs" --exclude=./.complete -cf - . | tar -C "$mount" -xf -
    buildah umount "$container" >/dev/null
    buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env LANG=C.UTF-8 --cmd /bin/bash "$container"
    buildah commit --rm -q "$container" "$name" >/dev/null
    log "base image $name"
    echo "$name"
}

# This machine reaches PyPI through a TLS-inspecting proxy: RUN steps see the host's CA bundle and
# pip configuration, mounted read-only for the build only (nothing of it lands in an image).
trust_volumes() {
    local file
    for file in /etc/ssl/certs/ca-certificates.crt /etc/pip.conf; do
        [[ -f "$file" ]] && printf -- '--volume=%s:%s:ro\n' "$file" "$file"
    done
    return 0
}

# buildah bud with the cache on and registries off; prints the image ID.
bud() { # buildah-bud-args...
    local iid
    iid=$(mktemp)
    # shellcheck disable=SC2046
    nice -n 10 buildah bud --layers --pull-never --quiet --iidfile="$iid" $(trust_volumes) "$@" >&2
    cat "$iid"
    rm -f "$iid"
}

go_bin_dir() { # set -> the bin dir of hack/cluster/build.sh SET
    local lines
    lines=$("$REPO/hack/cluster/build.sh" "$1") || return 1
    echo "${lines##*$'\n'}"
}

image_id() { # name -> ID (buildah lists an ID once per name it has)
    local ids
    ids=$(buildah images --noheading --no-trunc --format '{{.ID}}' "$1")
    echo "${ids%%$'\n'*}"
}

# A Go binary of the cluster's on an empty image, entrypoint /NAME; made once per binary.
binary_image() { # name binary -> image ID
    local name=$1 binary key_tag container
    binary=$(readlink -f "$2")
    key_tag=$REGISTRY/$name:binary-$(sha256sum "$binary" | cut -c1-12)
    if ! has_image "$key_tag"; then
        container=$(buildah from scratch)
        buildah copy --quiet "$container" "$binary" "/$name" >/dev/null
        buildah config --entrypoint "[\"/$name\"]" --user 65532:65532 "$container"
        buildah commit --rm --quiet "$container" "$key_tag" >/dev/null
    fi
    image_id "$key_tag"
}

# Build NAME; print its image ID.
build_one() { # name
    local name=$1 service target bin_dir helm
    case "$name" in
        base) image_id "$(base)" ;;
        pause|coredns|traefik|local-path-provisioner)
            bin_dir=$(go_bin_dir node) || return 1
            binary_image "$name" "$bin_dir/$name" ;;
        helm)
            bin_dir=$(go_bin_dir controlplane) || return 1
            binary_image helm "$bin_dir/helm" ;;
        users|products|carts|orders|payments|web|users-dev|products-dev|carts-dev|orders-dev|payments-dev|web-dev)
            service=${name%-dev}
            target=runtime
            [[ "$name" == *-dev ]] && target=dev
            bud --file="$REPO/services/Dockerfile" --target="$target" --build-arg=SERVICE="$service" \
                --build-arg=PYTHON_IMAGE="$(base)" "$REPO" ;;
        paystack-simulator)
            bud --file="$REPO/services/Dockerfile" --target=paystack-simulator \
                --build-arg=PYTHON_IMAGE="$(base)" "$REPO" ;;
        operator)
            helm=$(build helm) || return 1
            bud --file="$REPO/operator/Dockerfile" --build-arg=PYTHON_IMAGE="$(base)" \
                --build-arg=HELM_STAGE="${helm#* }" "$REPO" ;;
        postgresql)
            bud --file="$REPO/hack/cluster/images/postgresql/Dockerfile" --build-arg=BASE="$(base)" \
                "$REPO/hack/cluster/images/postgresql" ;;
        *) log "unknown image '$name'"; return 2 ;;
    esac
}

# The image's name here and in containerd: storefront.local/NAME:<12 digits of its ID>.
reference() { # name image-id
    local id=${2#sha256:}
    echo "$REGISTRY/$1:${id:0:12}"
}

# Build, tag; print "NAME REFERENCE".
build() { # names...
    local name id ref start
    for name in "$@"; do
        start=$(date +%s)
        id=$(build_one "$name")
        ref=$(reference "$name" "$id")
        has_image "$ref" || buildah tag "$id" "$ref"
        log "$name: $ref ($(($(date +%s) - start))s)"
        echo "$name $ref"
    done
}

# Build and write each image's OCI archive (once per image ID); print "NAME REFERENCE ARCHIVE".
archive() { # names...
    local name ref file
    mkdir -p "$CACHE/archives"
    build "$@" | while read -r name ref; do
        file=$CACHE/archives/${ref##*/}.tar
        file=${file/:/-}
        if [[ ! -s "$file" ]]; then
            buildah push --quiet "$ref" "oci-archive:$file.tmp:$ref" >&2
            mv "$file.tmp" "$file"
        fi
        echo "$name $ref $file"
    done
}

# Build and import into a running containerd, unless it has the image already; print "NAME REFERENCE".
import() { # socket names...
    local socket=$1 name ref file present; shift
    present=$(ctr --address="$socket" --namespace=k8s.io images list --quiet)
    archive "$@" | while read -r name ref file; do
        if ! grep -qxF "$ref" <<<"$present"; then
            ctr --address="$socket" --namespace=k8s.io images import "$file" >&2
        fi
        echo "$name $ref"
    done
}

# skaffold's custom builder: it sets IMAGE (the reference to build) and PUSH_IMAGE.
skaffold_build() { # name
    local id
    id=$(build_one "$1")
    buildah tag "$id" "$IMAGE"
    if [[ "${PUSH_IMAGE:-false}" == true ]]; then
        buildah push --quiet --tls-verify=false "$IMAGE" "docker://$IMAGE" >&2
    fi
}

main() {
    local command=${1:-}
    shift || true
    mkdir -p "$CACHE"
    exec 8>"$CACHE/images.lock"
    flock 8
    case "$command" in
        base) base ;;
        build) build "$@" ;;
        archive) archive "$@" ;;
        import) import "$@" ;;
        skaffold) skaffold_build "$@" ;;
        *) log "usage: images.sh base | build NAME... | archive NAME... | import SOCKET NAME... | skaffold NAME"; return 2 ;;
    esac
}

main "$@"
