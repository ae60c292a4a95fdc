#!/usr/bin/env bash
# The tests and benchmarks start their own PostgreSQL server; this makes sure its binaries are installed.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing: install the 'postgresql' package (Debian) and retry." >&2
  exit 1
fi
echo "Installing PostgreSQL from Debian's packages..." >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
# Debian starts a cluster on install; the tests use their own, so the packaged one is not needed.
pg_ctlcluster --help >/dev/null 2>&1 && for c in $(pg_lsclusters -h | awk '{print $1"/"$2}'); do
  pg_ctlcluster "${c%/*}" "${c#*/}" stop 2>/dev/null || true
done
