#!/usr/bin/env bash
# jcstress tests of SpanHeap's racy reads and publications (docs/testing.md, "jcstress"). Builds
# allocator-jcstress (Maven profile "jcstress", not part of the default build) and runs every
# test in it with jcstress's own runner, on the class path, so that the tests in package
# dev.spanheap reach the core's package-private structures.
#
#   scripts/jcstress.sh                 # quick mode (-m quick), every test
#   scripts/jcstress.sh -m default      # jcstress's longer default mode
#   scripts/jcstress.sh -t PageTable    # tests whose name matches a regexp
#
# Arguments go to jcstress. Reports: allocator-jcstress/target/jcstress-results/ (index.html).
# The run takes the machine's lock for heavy jobs (/tmp/jmh.lock); SPANHEAP_NO_LOCK=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
mvn -B -q -Pjcstress -pl allocator-jcstress -am compile \
    dependency:build-classpath -Dmdep.outputFile=target/jcstress.classpath -Dmdep.includeScope=runtime
root="$(pwd)"
module="$root/allocator-jcstress"
classpath="$module/target/classes:$root/allocator-core/target/classes:$(cat "$module/target/jcstress.classpath")"
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(-m quick)
cmd=("$JAVA" -cp "$classpath" org.openjdk.jcstress.Main
     -jvmArgsPrepend "--enable-native-access=ALL-UNNAMED"
     -r "$module/target/jcstress-results" "${args[@]}")
if [[ -z "${SPANHEAP_NO_LOCK:-}" ]]; then
    cmd=(flock /tmp/jmh.lock "${cmd[@]}")
fi
start=$(date +%s)
# jcstress writes its raw results file into the working directory.
(cd "$module/target" && "${cmd[@]}")
echo "jcstress run: $(( $(date +%s) - start )) s wall (including waiting for the lock)"
