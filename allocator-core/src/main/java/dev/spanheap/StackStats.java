package dev.spanheap;

/**
 * Statistics of the thread stacks behind {@link SpanHeap#newConfinedArena()}.
 *
 * @param threadStacks        stacks currently held by threads
 * @param chunks              chunks held by all stacks
 * @param chunkBytes          bytes of those chunks
 * @param bytesInUse          bytes handed out by open frames
 * @param highWaterBytes      the most bytes ever in use at once, over all stacks
 * @param openFrames          arenas opened and not yet closed
 * @param framesOpened        arenas opened since the heap was created
 * @param fallbackAllocations allocations too big for the stack, served by the heap
 */
public record StackStats(long threadStacks, long chunks, long chunkBytes, long bytesInUse, long highWaterBytes,
                         long openFrames, long framesOpened, long fallbackAllocations) {
}
