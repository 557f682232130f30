/**
 * For the project's own benchmarks; not API. {@link dev.spanheap.internal.CoreProbe} exposes the
 * steps of the core's fast paths, each delegating to the core's code, so that the benchmarks in
 * {@code allocator-bench} time the real thing without living in the core's package.
 */
package dev.spanheap.internal;
