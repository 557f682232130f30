import dev.spanheap.*;
import java.nio.file.Path;
import java.util.*;

/** The heap of docs/memory.md's report example: small records, 256 KiB buffers, a released spike, half the buffers freed, a scratch buffer, half the records expired. */
public class ReportExample {
    public static void main(String[] args) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name("example").scavengerEnabled(false).build())) {
            Random random = new Random(42);
            List<Long> records = new ArrayList<>();
            for (int size : new int[] {20, 60, 200, 1500}) {
                for (int i = 0; i < 2000; i++) {
                    records.add(heap.allocateAddress(size));
                }
            }
            List<Long> buffers = new ArrayList<>();
            for (int i = 0; i < 68; i++) {
                buffers.add(heap.allocateAddress(150_000 + random.nextInt(120_000)));
            }
            long spike = heap.allocateAddress(20 << 20);
            heap.freeAddress(spike);
            heap.releaseFreeMemory();
            for (int i = 0; i < 34; i++) {
                heap.freeAddress(buffers.remove(random.nextInt(buffers.size())));
            }
            for (int i = 0; i < 10; i++) {
                heap.freeAddress(heap.allocateAddress(300 << 10)); // a scratch buffer, in stack order
            }
            Collections.shuffle(records, random);
            for (int i = 0; i < records.size() / 2; i++) {
                heap.freeAddress(records.get(i));
            }
            System.out.print(heap.report());
            heap.heapMap(Path.of(args[0]));
        }
    }
}
