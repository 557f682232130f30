package dev.spanheap;

/**
 * Statistics of the thread stacks behind {@link SpanHeap#newConfinedArena()}. Other threads'
 * stacks are read without stopping them, so a snapshot taken while they open arenas is approximate.
 *
 * @param threadStacks        stacks registered (threads that opened a stack arena and have not been
 *                            found ended yet)
 * @param chunks              chunks held by those stacks (in use or spare)
 * @param chunkBytes          bytes of those chunks
 * @param bytesInUse          bytes of the stacks under open frames (including alignment padding)
 * @param highWaterBytes      the most bytes one thread's stack has had in use at once (the largest
 *                            over all threads, ended ones included); updated when a frame pops
 * @param openFrames          arenas opened and not yet popped (a frame closed out of order counts
 *                            until the frames above it close)
 * @param framesOpened        arenas opened since the heap was created
 * @param fallbackAllocations allocations served by the heap instead of the stack (too big, aligned to
 *                            more than 4 KiB, or made while an inner arena was open)
 * @param outOfOrderCloses    arenas closed while an arena opened after them was still open
 * @param pooledChunks        clean first chunks kept for virtual threads, held by no stack
 * @param pooledBytes         bytes of those chunks
 */
public record StackStats(long threadStacks, long chunks, long chunkBytes, long bytesInUse, long highWaterBytes,
                         long openFrames, long framesOpened, long fallbackAllocations, long outOfOrderCloses,
                         long pooledChunks, long pooledBytes) {
}
