package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@code spanheap render} draws its charts from a small results directory in JMH's format built
 * here, and each SVG, parsed back as XML, has one series per allocator with one point per
 * measurement; the markdown links every chart beside its table.
 */
class RenderChartsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ArrayNode jmh = JSON.createArrayNode();

    /** One JMH result row as JMH writes it. */
    private void row(String benchmark, int threads, Map<String, String> params, double score, String unit) {
        ObjectNode row = jmh.addObject();
        row.put("jmhVersion", "1.37");
        row.put("benchmark", "dev.spanheap.bench." + benchmark);
        row.put("mode", unit.endsWith("/op") ? "avgt" : "thrpt");
        row.put("threads", threads);
        row.put("forks", 1);
        ObjectNode p = row.putObject("params");
        params.forEach(p::put);
        ObjectNode primary = row.putObject("primaryMetric");
        primary.put("score", score);
        primary.put("scoreError", "NaN");
        primary.put("scoreUnit", unit);
        primary.putArray("rawData").addArray().add(score);
        row.putObject("secondaryMetrics");
    }

    private Path fixture(Path directory) throws Exception {
        Files.createDirectories(directory);
        // Pair times: three allocators, four sizes; Netty pooled lacks 1 MiB (a missing point, not a zero).
        long[] sizes = {16, 4096, 262144, 1048576};
        double[][] ns = {{6.5, 6.9, 305, 326}, {18.9, 44, 43.8, 40.6}, {104, 106, 151, Double.NaN}};
        String[] methods = {"spanheapAddress", "malloc", "nettyPooled"};
        for (int m = 0; m < methods.length; m++) {
            for (int s = 0; s < sizes.length; s++) {
                if (!Double.isNaN(ns[m][s])) {
                    row("AllocFreePairBenchmark." + methods[m], 1, Map.of("size", Long.toString(sizes[s])), ns[m][s], "ns/op");
                }
            }
        }
        // Thread counts from JMH's threads field, as MixedSizesBenchmark's oneThread/twoThreads report them.
        for (String allocator : List.of("spanheap", "malloc", "mimalloc")) {
            row("MixedSizesBenchmark.oneThread", 1, Map.of("allocator", allocator), 50, "ops/us");
            row("MixedSizesBenchmark.twoThreads", 2, Map.of("allocator", allocator), 90, "ops/us");
        }
        // Thread counts from a threads parameter (a scaling benchmark), average time per operation.
        for (String allocator : List.of("spanheap", "malloc")) {
            for (int t : new int[] {1, 2, 4, 8}) {
                row("ScalingBenchmark.scale", t, Map.of("allocator", allocator, "threads", Integer.toString(t)), 20.0, "ns/op");
            }
        }
        // One thread count only: no thread chart.
        row("XmallocTestBenchmark.xmallocTest", 2, Map.of("allocator", "spanheap"), 60, "ops/us");
        Files.writeString(directory.resolve("jmh-main.json"), JSON.writeValueAsString(jmh));

        StringBuilder memory = new StringBuilder();
        for (String workload : List.of("larson", "xmalloc-test")) {
            for (String allocator : List.of("spanheap", "malloc", "tcmalloc")) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("workload", workload);
                line.put("allocator", allocator);
                line.put("threads", 2);
                line.put("startRssBytes", 70L << 20);
                line.put("peakRssBytes", (85L + allocator.length()) << 20);
                line.put("finalRssBytes", 80L << 20);
                line.put("liveBytesAtEnd", 10L << 20);
                line.put("heldBytesBeforeFree", 12L << 20);
                line.put("heldBytesAfterFree", 1L << 20);
                memory.append(JSON.writeValueAsString(line)).append('\n');
            }
        }
        Files.writeString(directory.resolve("memory.jsonl"), memory);
        Files.writeString(directory.resolve("environment.json"), "{\"date\":\"2026-12-01T10:00:00Z\",\"skipped\":{}}");
        return directory;
    }

    private static Document parse(Path svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(svg.toFile());
    }

    /** Series name to the number of points (circles) or bars (rects of class bar) it has. */
    private static Map<String, Integer> series(Document svg, String mark) {
        Map<String, Integer> out = new LinkedHashMap<>();
        NodeList groups = svg.getElementsByTagName("g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (!g.getAttribute("class").equals("series")) {
                continue;
            }
            NodeList marks = g.getElementsByTagName(mark.equals("bar") ? "rect" : "circle");
            int count = 0;
            for (int j = 0; j < marks.getLength(); j++) {
                Element e = (Element) marks.item(j);
                if (!mark.equals("bar") || e.getAttribute("class").equals("bar")) {
                    count++;
                }
            }
            out.put(g.getAttribute("data-series"), count);
        }
        return out;
    }

    /** Every text's estimated right edge stays inside the picture (no label runs off the right). */
    private static void textFits(Document svg, String name) {
        double width = Double.parseDouble(svg.getDocumentElement().getAttribute("width"));
        NodeList texts = svg.getElementsByTagName("text");
        assertTrue(texts.getLength() > 10, name + " has tick labels, a legend and a title");
        for (int i = 0; i < texts.getLength(); i++) {
            Element t = (Element) texts.item(i);
            if (!t.getAttribute("transform").isEmpty() || t.getAttribute("text-anchor").equals("end")) {
                continue;
            }
            double size = t.hasAttribute("font-size") ? Double.parseDouble(t.getAttribute("font-size")) : 13;
            double x = Double.parseDouble(t.getAttribute("x"));
            double half = t.getAttribute("text-anchor").equals("middle") ? 0.5 : 1;
            assertTrue(x + half * SvgText.width(t.getTextContent(), size) <= width,
                    name + ": '" + t.getTextContent() + "' at x=" + x + " runs past " + width);
        }
    }

    @Test
    void renderWritesOneChartPerKindWithASeriesPerAllocator(@TempDir Path directory) throws Exception {
        Path results = fixture(directory.resolve("results"));
        Path markdown = directory.resolve("docs").resolve("tables.md");
        Files.createDirectories(markdown.getParent());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SpanHeapTool.run(new String[] {"render", "--input", results.toString(), "--output", markdown.toString()},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        Path charts = markdown.getParent().resolve("charts");

        Document pair = parse(charts.resolve("alloc-free-pair-time.svg"));
        assertEquals(Map.of("SpanHeap allocateAddress/freeAddress", 4, "glibc malloc/free (plain downcall)", 4,
                "Netty PooledByteBufAllocator direct", 3), series(pair, "point"));
        assertTrue(text(pair).contains("(log scale)"), "6.5 ns to 326 ns spans decades: a log scale");
        assertTrue(text(pair).contains("256 KiB") && text(pair).contains("1 MiB"), "sizes labelled as sizes");
        textFits(pair, "pair chart");

        Document mixed = parse(charts.resolve("threads-mixedsizes.svg"));
        assertEquals(Map.of("spanheap", 2, "malloc", 2, "mimalloc", 2), series(mixed, "point"));
        assertTrue(text(mixed).contains("90 M"), "90 ops/us is drawn as 90 M ops/s: " + text(mixed));
        textFits(mixed, "mixed chart");

        Document scaling = parse(charts.resolve("threads-scaling.svg"));
        assertEquals(Map.of("spanheap", 4, "malloc", 4), series(scaling, "point"));
        textFits(scaling, "scaling chart");

        assertTrue(!Files.exists(charts.resolve("threads-xmallocttest.svg")) && !Files.exists(charts.resolve("threads-xmalloctest.svg")),
                "a benchmark run at one thread count gets no thread chart");

        Document rss = parse(charts.resolve("peak-rss.svg"));
        assertEquals(Map.of("spanheap", 2, "malloc", 2, "tcmalloc", 2), series(rss, "bar"));
        assertTrue(text(rss).contains("larson, 2 threads") && text(rss).contains("xmalloc-test, 2 threads"), text(rss));
        assertTrue(text(rss).contains("93.0"), "spanheap's peak (85 + 8 MiB) is written on its bar: " + text(rss));
        textFits(rss, "RSS chart");

        String md = Files.readString(markdown);
        Matcher links = Pattern.compile("!\\[[^]]+]\\(([^)]+)\\)").matcher(md);
        int count = 0;
        while (links.find()) {
            assertTrue(Files.exists(markdown.getParent().resolve(links.group(1))), "link resolves: " + links.group(1));
            count++;
        }
        assertEquals(4, count, "one link per chart:\n" + md);
        int pairTable = md.indexOf("### Allocate + free, one thread");
        int pairChart = md.indexOf("](charts/alloc-free-pair-time.svg)");
        int ratios = md.indexOf("### Ratios and targets");
        assertTrue(pairTable < pairChart && pairChart < ratios, "the pair chart follows the pair table:\n" + md);
        int mixedTable = md.indexOf("### Mixed realistic sizes");
        int mixedChart = md.indexOf("](charts/threads-mixedsizes.svg)");
        assertTrue(mixedTable >= 0 && mixedTable < mixedChart, "the mixed chart follows its table:\n" + md);
        assertTrue(md.indexOf("](charts/peak-rss.svg)") > md.indexOf("### xmalloc-test"), "the RSS chart follows the workload tables");
        int otherTable = md.indexOf("### Other benchmarks in the jar");
        int scalingChart = md.indexOf("](charts/threads-scaling.svg)");
        assertTrue(otherTable >= 0 && otherTable < scalingChart && md.indexOf("ScalingBenchmark.scale") < scalingChart,
                "a benchmark without a table of its own gets its chart after its rows:\n" + md);
        assertTrue(!md.contains("### Charts of the other benchmarks"), "every chart has its table, none is left for the end:\n" + md);
    }

    private static String text(Document svg) {
        return svg.getDocumentElement().getTextContent();
    }
}
