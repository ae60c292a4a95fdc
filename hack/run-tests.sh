#!/usr/bin/env bash
# Every test in one pytest run (configured by pytest.ini): the service suites first, the real cluster last,
# one closing summary. SUITES narrows it to some paths; `-m` selects by marker (conftest.py: controlplane,
# e2e, cluster). Expects STOREFRONT_TEST_DATABASE_URL (make test sets it).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
read -r -a suites <<< "${SUITES:-services hack/tests tests/k8s tests/operator tests/e2e tests/cluster}"
exec "$PYTHON" -m pytest "${suites[@]}" "$@"
