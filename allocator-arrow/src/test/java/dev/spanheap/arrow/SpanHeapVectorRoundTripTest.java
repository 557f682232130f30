package dev.spanheap.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spanheap.SpanHeap;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Arrow vectors on SpanHeap memory: values written into {@link IntVector} and {@link VarCharVector}
 * read back unchanged, including across reallocation as they grow, and a {@link VectorSchemaRoot}
 * survives Arrow's IPC stream format written and read back. The allocator closes without a leak
 * and the heap holds no live object after every test.
 */
class SpanHeapVectorRoundTripTest {

    private static final SpanHeap HEAP = SpanHeap.create();

    private RootAllocator allocator;

    @BeforeEach
    void open() {
        allocator = new RootAllocator(RootAllocator.configBuilder()
                .allocationManagerFactory(SpanHeapAllocationManager.factory(HEAP)).build());
    }

    @AfterEach
    void closeAndCheck() {
        allocator.close();
        assertEquals(0, HEAP.stats().liveObjects());
    }

    @AfterAll
    static void closeHeap() {
        HEAP.close();
    }

    @Test
    void intVectorKeepsValuesAndNullsAcrossGrowth() {
        try (IntVector vector = new IntVector("ints", allocator)) {
            vector.allocateNew(16);
            int count = 100_000;
            for (int i = 0; i < count; i++) {
                if (i % 7 == 0) {
                    vector.setNull(i);
                } else {
                    vector.setSafe(i, i * 3 - 1);
                }
            }
            vector.setValueCount(count);
            assertTrue(HEAP.stats().liveObjects() > 0);
            for (int i = 0; i < count; i++) {
                if (i % 7 == 0) {
                    assertTrue(vector.isNull(i), "slot " + i);
                } else {
                    assertEquals(i * 3 - 1, vector.get(i), "slot " + i);
                }
            }
        }
    }

    @Test
    void varCharVectorKeepsStrings() {
        try (VarCharVector vector = new VarCharVector("strings", allocator)) {
            vector.allocateNew();
            int count = 5_000;
            for (int i = 0; i < count; i++) {
                vector.setSafe(i, text(i).getBytes(StandardCharsets.UTF_8));
            }
            vector.setValueCount(count);
            for (int i = 0; i < count; i++) {
                assertEquals(text(i), new String(vector.get(i), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void vectorSchemaRootSurvivesTheIpcStreamFormat() throws Exception {
        Schema schema = new Schema(List.of(
                Field.nullable("id", new ArrowType.Int(32, true)),
                Field.nullable("name", ArrowType.Utf8.INSTANCE)));
        int batches = 3;
        int rowsPerBatch = 2_000;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
             ArrowStreamWriter writer = new ArrowStreamWriter(root, null, bytes)) {
            IntVector ids = (IntVector) root.getVector("id");
            VarCharVector names = (VarCharVector) root.getVector("name");
            writer.start();
            for (int batch = 0; batch < batches; batch++) {
                root.allocateNew();
                for (int row = 0; row < rowsPerBatch; row++) {
                    int id = batch * rowsPerBatch + row;
                    ids.setSafe(row, id);
                    names.setSafe(row, text(id).getBytes(StandardCharsets.UTF_8));
                }
                root.setRowCount(rowsPerBatch);
                writer.writeBatch();
            }
            writer.end();
        }

        try (BufferAllocator readerAllocator = allocator.newChildAllocator("reader", 0, Long.MAX_VALUE);
             ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes.toByteArray()), readerAllocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            assertEquals(schema, root.getSchema());
            int seen = 0;
            while (reader.loadNextBatch()) {
                IntVector ids = (IntVector) root.getVector("id");
                VarCharVector names = (VarCharVector) root.getVector("name");
                assertEquals(rowsPerBatch, root.getRowCount());
                for (int row = 0; row < root.getRowCount(); row++) {
                    assertEquals(seen, ids.get(row));
                    assertEquals(text(seen), new String(names.get(row), StandardCharsets.UTF_8));
                    seen++;
                }
            }
            assertEquals(batches * rowsPerBatch, seen);
            assertFalse(reader.loadNextBatch());
        }
    }

    private static String text(int i) {
        return "row-" + i + "-" + "x".repeat(i % 13);
    }
}
