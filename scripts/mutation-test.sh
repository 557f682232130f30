#!/usr/bin/env bash
# Mutation testing with PIT (docs/testing.md, "Mutation score"): mutates allocator-core's classes
# and runs allocator-core's unit tests and allocator-tests against every mutant. Not part of the
# default build: it takes tens of minutes on two cores. Reports land in
# allocator-tests/target/pit-reports/ (index.html, mutations.xml, mutations.csv).
#
# Options are Maven properties, e.g.
#   scripts/mutation-test.sh -Dpitest.threads=4 -Dpitest.propertyTries=1000
# The machine's other heavy jobs are waited for through /tmp/jmh.lock (set SPANHEAP_NO_LOCK=1 to
# run without it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
cmd=(mvn -B -Pmutation -pl allocator-tests -am test -Dmaven.test.skip.exec=true "$@")
# maven.test.skip.exec skips surefire in allocator-core; PIT runs those tests itself.
if [[ -z "${SPANHEAP_NO_LOCK:-}" ]]; then
    cmd=(flock /tmp/jmh.lock "${cmd[@]}")
fi
start=$(date +%s)
"${cmd[@]}"
echo "mutation run: $(( $(date +%s) - start )) s wall (including waiting for the lock)"
