#!/usr/bin/env bash
# Runs each test suite in its own pytest process (suites share file names such as test_fuzz.py),
# then prints one closing line for all of them. Expects STOREFRONT_TEST_DATABASE_URL (make test sets it).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT

default_suites=(services/common/tests services/users/tests services/products/tests services/carts/tests
                services/orders/tests services/payments/tests hack/tests tests/k8s operator/tests tests/e2e
                tests/cluster)
read -r -a suites <<< "${SUITES:-${default_suites[*]}}"

status=0
for suite in "${suites[@]}"; do
  [ -e "$suite" ] || continue
  echo "=== $suite"
  "$PYTHON" -m pytest "$suite" -q -p no:cacheprovider --junitxml="$RESULTS/$(echo "$suite" | tr '/.' '__').xml" \
    || status=1
done
"$PYTHON" - "$RESULTS" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in pathlib.Path(sys.argv[1]).glob("*.xml"):
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"make test: {passed} passed, {failed} failed, {totals['skipped']} skipped")
PY
exit $status
