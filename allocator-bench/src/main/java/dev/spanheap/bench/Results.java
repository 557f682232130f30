package dev.spanheap.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The results of one suite run, read back from the directory {@link SuiteRunner} wrote: JMH's
 * JSON files, the memory log and the environment.
 */
final class Results {

    /** One JMH result line: {@code benchmark} is {@code Class.method} (or {@code Class.group}). */
    record Row(String benchmark, Map<String, String> params, int threads, double score, double error,
               String unit, Map<String, Double> secondary, String source) {

        String className() {
            return benchmark.substring(0, benchmark.indexOf('.'));
        }

        String method() {
            return benchmark.substring(benchmark.indexOf('.') + 1);
        }

        String param(String name) {
            return params.getOrDefault(name, "");
        }
    }

    /** One trial's memory figures ({@link MemoryLog}). */
    record Memory(String workload, String allocator, int threads, long startRss, long peakRss, long finalRss,
                  long liveBytes, long heldBeforeFree, long heldAfterFree) {

        long peakGrowth() {
            return peakRss - startRss;
        }
    }

    final List<Row> rows = new ArrayList<>();
    final List<Memory> memory = new ArrayList<>();
    final Map<String, Object> environment = new LinkedHashMap<>();

    /** Reads every {@code jmh-*.json}, {@code memory.jsonl} and {@code environment.json} in {@code directory}. */
    static Results load(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IOException("no results directory " + directory);
        }
        Results results = new Results();
        List<Path> files;
        try (Stream<Path> list = Files.list(directory)) {
            files = list.filter(p -> p.getFileName().toString().matches("jmh-.*\\.json")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IOException("no jmh-*.json result files in " + directory);
        }
        for (Path file : files) {
            String source = file.getFileName().toString().replaceAll("^jmh-|\\.json$", "");
            String text = Files.readString(file).trim();
            if (text.isEmpty()) {
                continue;
            }
            JsonNode items = ToolJson.MAPPER.readTree(text);
            if (!items.isArray()) {
                throw new IOException(file + " is not a JMH result file (a JSON array of results)");
            }
            for (JsonNode item : items) {
                results.rows.add(row(item, source));
            }
        }
        Path memoryLog = directory.resolve("memory.jsonl");
        if (Files.exists(memoryLog)) {
            for (String line : Files.readAllLines(memoryLog)) {
                if (!line.isBlank()) {
                    JsonNode m = ToolJson.MAPPER.readTree(line);
                    results.memory.add(new Memory(m.path("workload").asText(), m.path("allocator").asText(),
                            m.path("threads").asInt(), m.path("startRssBytes").asLong(),
                            m.path("peakRssBytes").asLong(), m.path("finalRssBytes").asLong(),
                            m.path("liveBytesAtEnd").asLong(), m.path("heldBytesBeforeFree").asLong(),
                            m.path("heldBytesAfterFree").asLong()));
                }
            }
        }
        Path environment = directory.resolve("environment.json");
        if (Files.exists(environment)) {
            results.environment.putAll(ToolJson.MAPPER.readValue(Files.readString(environment),
                    new TypeReference<LinkedHashMap<String, Object>>() { }));
        }
        return results;
    }

    private static Row row(JsonNode item, String source) {
        String benchmark = SuiteRunner.simpleName(item.path("benchmark").asText());
        Map<String, String> params = new LinkedHashMap<>();
        item.path("params").properties().forEach(e -> params.put(e.getKey(), e.getValue().asText()));
        JsonNode primary = item.path("primaryMetric");
        Map<String, Double> secondary = new LinkedHashMap<>();
        item.path("secondaryMetrics").properties().forEach(e -> secondary.put(e.getKey(), ToolJson.number(e.getValue().get("score"))));
        return new Row(benchmark, params, item.path("threads").asInt(), ToolJson.number(primary.get("score")),
                ToolJson.number(primary.get("scoreError")), primary.path("scoreUnit").asText(), secondary, source);
    }

    /** The score of the first row of {@code benchmark} whose parameters include all of {@code params}. */
    Optional<Row> find(String benchmark, Map<String, String> params) {
        return rows.stream()
                .filter(r -> r.benchmark().equals(benchmark) && !r.source().equals("gc"))
                .filter(r -> params.entrySet().stream().allMatch(e -> e.getValue().equals(r.param(e.getKey()))))
                .findFirst();
    }

    Optional<Row> findGc(String benchmark, Map<String, String> params) {
        return rows.stream()
                .filter(r -> r.benchmark().equals(benchmark) && r.source().equals("gc"))
                .filter(r -> params.entrySet().stream().allMatch(e -> e.getValue().equals(r.param(e.getKey()))))
                .findFirst();
    }

    /** The memory record of a workload (the largest peak if several forks wrote one). */
    Optional<Memory> memory(String workload, String allocator, int threads) {
        return memory.stream()
                .filter(m -> m.workload().equals(workload) && m.allocator().equals(allocator) && m.threads() == threads)
                .max((a, b) -> Long.compare(a.peakRss(), b.peakRss()));
    }

    @SuppressWarnings("unchecked")
    Map<String, String> skipped() {
        Object skipped = environment.get("skipped");
        Map<String, String> out = new LinkedHashMap<>();
        if (skipped instanceof Map<?, ?> map) {
            map.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        }
        return out;
    }
}
