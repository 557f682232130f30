package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spanheap.HeapStats;
import dev.spanheap.SpanHeap;
import dev.spanheap.netty.SpanHeapByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The echo server of {@code spanheap serve} on SpanHeap's allocator, driven by a real HTTP client
 * and by raw sockets for the requests a client library will not send: bodies from 1 B to 1 MiB come
 * back unchanged with their CRC32; oversized, malformed and truncated requests get 413 or 400; and
 * once the server is closed the heap holds no live object (Netty's leak detector at PARANOID).
 */
class EchoServerTest {

    private static SpanHeap heap;
    private static SpanHeapByteBufAllocator allocator;
    private static EchoServer server;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        heap = SpanHeap.create();
        allocator = new SpanHeapByteBufAllocator(heap);
        server = EchoServer.start(allocator, "127.0.0.1", 0, 2, Duration.ofSeconds(1));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stopAndCheckNothingLeaked() {
        server.close();
        client.close();
        HeapStats stats = heap.stats();
        assertEquals(0, allocator.metric().usedDirectMemory(), "direct memory still counted after the server stopped");
        assertEquals(0, stats.liveObjects(), () -> stats.liveObjects() + " live objects (" + stats.allocatedBytes()
                + " bytes) left in the heap after the server stopped");
        heap.close();
    }

    @Test
    void bodiesFromOneByteToOneMebibyteComeBackWithTheirChecksum() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        for (int size : new int[] {1, 100, 4096, 65_537, 300_000, EchoServer.MAX_BODY_BYTES}) {
            byte[] body = new byte[size];
            random.nextBytes(body);
            HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(uri())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode(), "status for " + size + " bytes");
            assertArrayEquals(body, response.body(), "echo of " + size + " bytes");
            assertEquals(crc32(body), response.headers().firstValue(EchoHandler.CHECKSUM_HEADER).orElseThrow());
        }
    }

    @Test
    void chunkedBodiesAreAggregatedAndEchoed() throws Exception {
        String reply = exchange("POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", false);
        assertTrue(reply.startsWith("HTTP/1.1 200 OK"), reply);
        assertTrue(reply.endsWith("hello world"), reply);
        assertTrue(reply.contains(EchoHandler.CHECKSUM_HEADER.toLowerCase() + ": " + crc32("hello world".getBytes(StandardCharsets.US_ASCII)))
                || reply.contains(EchoHandler.CHECKSUM_HEADER + ": " + crc32("hello world".getBytes(StandardCharsets.US_ASCII))), reply);
    }

    @Test
    void aBodyOverOneMebibyteGets413() throws Exception {
        String reply = exchange("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: " + (EchoServer.MAX_BODY_BYTES + 1) + "\r\n\r\n", false);
        assertTrue(reply.startsWith("HTTP/1.1 413"), reply);
    }

    @Test
    void aChunkedBodyGrowingOverOneMebibyteGets413() throws Exception {
        StringBuilder request = new StringBuilder("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = "x".repeat(64 * 1024);
        for (int i = 0; i < 17; i++) {
            request.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        request.append("0\r\n\r\n");
        String reply = exchange(request.toString(), false);
        assertTrue(reply.startsWith("HTTP/1.1 413"), reply.substring(0, Math.min(200, reply.length())));
    }

    @Test
    void malformedRequestsGet400() throws Exception {
        String badLength = exchange("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n0123456789", false);
        assertTrue(badLength.startsWith("HTTP/1.1 400"), badLength);
        assertTrue(badLength.contains("bad request"), badLength);
        String badVersion = exchange("GET / HTTP/7\r\nHost: t\r\n\r\n", false);
        assertTrue(badVersion.startsWith("HTTP/1.1 400"), badVersion);
        String badChunk = exchange("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false);
        assertTrue(badChunk.startsWith("HTTP/1.1 400"), badChunk);
    }

    @Test
    void aBodyCutShortByTheClientGets400() throws Exception {
        String reply = exchange("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly twenty bytes...", true);
        assertTrue(reply.startsWith("HTTP/1.1 400"), reply);
        assertTrue(reply.contains("truncated body, the client closed its side after 20 of the 100 declared bytes"), reply);
    }

    @Test
    void aBodyThatStopsComingGets400AfterTheIdleTimeout() throws Exception {
        String reply = exchange("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nten bytes.", false);
        assertTrue(reply.startsWith("HTTP/1.1 400"), reply);
        assertTrue(reply.contains("no data for the idle timeout after 10 of the 100 declared bytes"), reply);
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() throws Exception {
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            String body = "request " + i;
            requests.append("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ").append(body.length()).append("\r\n")
                    .append(i == 49 ? "Connection: close\r\n" : "").append("\r\n").append(body);
        }
        String replies = exchange(requests.toString(), false);
        assertEquals(50, replies.split("HTTP/1.1 200 OK", -1).length - 1, replies);
        assertTrue(replies.endsWith("request 49"), replies);
    }

    private static URI uri() {
        return URI.create("http://127.0.0.1:" + server.port() + "/echo");
    }

    /** Sends raw bytes, optionally shuts the output, and reads until the server closes. */
    private static String exchange(String request, boolean shutOutput) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            if (shutOutput) {
                socket.shutdownOutput();
            }
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            try {
                for (int n; (n = in.read(chunk)) > 0; ) {
                    reply.write(chunk, 0, n);
                }
            } catch (java.net.SocketException reset) {
                // The server may reset after its error response when it closes with unread input.
            }
            return reply.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static String crc32(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return String.format("%08x", crc.getValue());
    }
}
