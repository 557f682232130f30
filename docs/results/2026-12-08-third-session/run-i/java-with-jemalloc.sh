#!/bin/sh
# Written by SuiteRunner: JMH forks for the jemalloc baseline.
LD_PRELOAD='/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' exec '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java' "$@"
