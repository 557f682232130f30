package dev.spanheap.netty;

import io.netty.buffer.AbstractReferenceCountedByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

/**
 * A Netty direct buffer that is one SpanHeap block, read and written through its
 * {@link MemorySegment}: no {@code ByteBuffer} is made unless Netty asks for an NIO view, capacity
 * changes are {@code SpanHeap.reallocate} (in place when the slot or run has room), and the last
 * {@code release()} frees the block.
 *
 * <p>Multi-byte values are big-endian (Netty's order) unless the method says LE; the segment's
 * bounds and liveness checks back Netty's own index checks, so a bug here throws rather than
 * touching memory outside the block. NIO views made for channels and for other buffers are fresh
 * each time, so duplicates of one buffer may be read concurrently, as Netty allows; the view of
 * {@link #internalNioBuffer} is reused, as Netty documents. Fields are owned by the thread that
 * owns the buffer.
 */
final class SpanHeapByteBuf extends AbstractReferenceCountedByteBuf {

    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes moved per round when copying to a stream. */
    private static final int STREAM_CHUNK = 8192;

    private final SpanHeapByteBufAllocator allocator;
    /** The block; replaced when the capacity changes. */
    private MemorySegment segment;
    /** The whole block as a {@code ByteBuffer}, made on the first {@link #internalNioBuffer} and dropped on a capacity change. */
    private ByteBuffer internalView;

    SpanHeapByteBuf(SpanHeapByteBufAllocator allocator, MemorySegment segment, int maxCapacity) {
        super(maxCapacity);
        this.allocator = allocator;
        this.segment = segment;
    }

    // ---------------------------------------------------------------- what the buffer is

    @Override
    public int capacity() {
        return (int) segment.byteSize();
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        checkNewCapacity(newCapacity);
        if (newCapacity == capacity()) {
            return this;
        }
        if (newCapacity < capacity()) {
            trimIndicesToCapacity(newCapacity);
        }
        segment = allocator.reallocate(segment, newCapacity);
        internalView = null;
        return this;
    }

    @Override
    public ByteBufAllocator alloc() {
        return allocator;
    }

    @Override
    @SuppressWarnings("deprecation")
    public ByteOrder order() {
        return ByteOrder.BIG_ENDIAN;
    }

    @Override
    public ByteBuf unwrap() {
        return null;
    }

    @Override
    public boolean isDirect() {
        return true;
    }

    @Override
    public boolean isContiguous() {
        return true;
    }

    @Override
    public boolean hasArray() {
        return false;
    }

    @Override
    public byte[] array() {
        throw new UnsupportedOperationException("a SpanHeap direct buffer has no array");
    }

    @Override
    public int arrayOffset() {
        throw new UnsupportedOperationException("a SpanHeap direct buffer has no array");
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    @Override
    public long memoryAddress() {
        ensureAccessible();
        return segment.address();
    }

    @Override
    protected void deallocate() {
        allocator.free(segment);
    }

    // ---------------------------------------------------------------- single values

    @Override
    protected byte _getByte(int index) {
        return segment.get(ValueLayout.JAVA_BYTE, index);
    }

    @Override
    protected short _getShort(int index) {
        return segment.get(SHORT_BE, index);
    }

    @Override
    protected short _getShortLE(int index) {
        return segment.get(SHORT_LE, index);
    }

    @Override
    protected int _getUnsignedMedium(int index) {
        return (_getByte(index) & 0xff) << 16 | (_getByte(index + 1) & 0xff) << 8 | _getByte(index + 2) & 0xff;
    }

    @Override
    protected int _getUnsignedMediumLE(int index) {
        return _getByte(index) & 0xff | (_getByte(index + 1) & 0xff) << 8 | (_getByte(index + 2) & 0xff) << 16;
    }

    @Override
    protected int _getInt(int index) {
        return segment.get(INT_BE, index);
    }

    @Override
    protected int _getIntLE(int index) {
        return segment.get(INT_LE, index);
    }

    @Override
    protected long _getLong(int index) {
        return segment.get(LONG_BE, index);
    }

    @Override
    protected long _getLongLE(int index) {
        return segment.get(LONG_LE, index);
    }

    @Override
    protected void _setByte(int index, int value) {
        segment.set(ValueLayout.JAVA_BYTE, index, (byte) value);
    }

    @Override
    protected void _setShort(int index, int value) {
        segment.set(SHORT_BE, index, (short) value);
    }

    @Override
    protected void _setShortLE(int index, int value) {
        segment.set(SHORT_LE, index, (short) value);
    }

    @Override
    protected void _setMedium(int index, int value) {
        _setByte(index, value >>> 16);
        _setByte(index + 1, value >>> 8);
        _setByte(index + 2, value);
    }

    @Override
    protected void _setMediumLE(int index, int value) {
        _setByte(index, value);
        _setByte(index + 1, value >>> 8);
        _setByte(index + 2, value >>> 16);
    }

    @Override
    protected void _setInt(int index, int value) {
        segment.set(INT_BE, index, value);
    }

    @Override
    protected void _setIntLE(int index, int value) {
        segment.set(INT_LE, index, value);
    }

    @Override
    protected void _setLong(int index, long value) {
        segment.set(LONG_BE, index, value);
    }

    @Override
    protected void _setLongLE(int index, long value) {
        segment.set(LONG_LE, index, value);
    }

    // ---------------------------------------------------------------- bulk reads

    @Override
    public ByteBuf getBytes(int index, ByteBuf dst, int dstIndex, int length) {
        checkDstIndex(index, length, dstIndex, dst.capacity());
        if (dst.hasArray()) {
            MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, index, dst.array(), dst.arrayOffset() + dstIndex, length);
        } else if (dst.nioBufferCount() > 0) {
            int at = index;
            for (ByteBuffer part : dst.nioBuffers(dstIndex, length)) {
                int bytes = part.remaining();
                part.put(view(at, bytes));
                at += bytes;
            }
        } else {
            dst.setBytes(dstIndex, this, index, length);
        }
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, byte[] dst, int dstIndex, int length) {
        checkDstIndex(index, length, dstIndex, dst.length);
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, index, dst, dstIndex, length);
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, ByteBuffer dst) {
        int length = dst.remaining();
        checkIndex(index, length);
        dst.put(view(index, length));
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, OutputStream out, int length) throws IOException {
        checkIndex(index, length);
        byte[] chunk = new byte[Math.min(length, STREAM_CHUNK)];
        for (int done = 0; done < length; ) {
            int bytes = Math.min(chunk.length, length - done);
            MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, index + done, chunk, 0, bytes);
            out.write(chunk, 0, bytes);
            done += bytes;
        }
        return this;
    }

    @Override
    public int getBytes(int index, GatheringByteChannel out, int length) throws IOException {
        checkIndex(index, length);
        return length == 0 ? 0 : out.write(view(index, length));
    }

    @Override
    public int getBytes(int index, FileChannel out, long position, int length) throws IOException {
        checkIndex(index, length);
        return length == 0 ? 0 : out.write(view(index, length), position);
    }

    // ---------------------------------------------------------------- bulk writes

    @Override
    public ByteBuf setBytes(int index, ByteBuf src, int srcIndex, int length) {
        checkSrcIndex(index, length, srcIndex, src.capacity());
        if (src.hasArray()) {
            MemorySegment.copy(src.array(), src.arrayOffset() + srcIndex, segment, ValueLayout.JAVA_BYTE, index, length);
        } else if (src.nioBufferCount() > 0) {
            int at = index;
            for (ByteBuffer part : src.nioBuffers(srcIndex, length)) {
                int bytes = part.remaining();
                view(at, bytes).put(part);
                at += bytes;
            }
        } else {
            src.getBytes(srcIndex, this, index, length);
        }
        return this;
    }

    @Override
    public ByteBuf setBytes(int index, byte[] src, int srcIndex, int length) {
        checkSrcIndex(index, length, srcIndex, src.length);
        MemorySegment.copy(src, srcIndex, segment, ValueLayout.JAVA_BYTE, index, length);
        return this;
    }

    @Override
    public ByteBuf setBytes(int index, ByteBuffer src) {
        int length = src.remaining();
        checkIndex(index, length);
        view(index, length).put(src);
        return this;
    }

    /** Reads once from the stream, as Netty's buffers do: the bytes read, or -1 at its end. */
    @Override
    public int setBytes(int index, InputStream in, int length) throws IOException {
        checkIndex(index, length);
        byte[] chunk = new byte[length];
        int read = in.read(chunk, 0, length);
        if (read > 0) {
            MemorySegment.copy(chunk, 0, segment, ValueLayout.JAVA_BYTE, index, read);
        }
        return read;
    }

    @Override
    public int setBytes(int index, ScatteringByteChannel in, int length) throws IOException {
        checkIndex(index, length);
        try {
            return in.read(view(index, length));
        } catch (ClosedChannelException e) {
            return -1;
        }
    }

    @Override
    public int setBytes(int index, FileChannel in, long position, int length) throws IOException {
        checkIndex(index, length);
        try {
            return in.read(view(index, length), position);
        } catch (ClosedChannelException e) {
            return -1;
        }
    }

    @Override
    public ByteBuf copy(int index, int length) {
        checkIndex(index, length);
        ByteBuf copy = alloc().directBuffer(length, maxCapacity());
        return copy.writeBytes(this, index, length);
    }

    // ---------------------------------------------------------------- NIO views

    @Override
    public int nioBufferCount() {
        return 1;
    }

    @Override
    public ByteBuffer nioBuffer(int index, int length) {
        checkIndex(index, length);
        return view(index, length);
    }

    @Override
    public ByteBuffer internalNioBuffer(int index, int length) {
        checkIndex(index, length);
        ByteBuffer whole = internalView;
        if (whole == null) {
            internalView = whole = segment.asByteBuffer();
        }
        whole.clear().position(index).limit(index + length);
        return whole;
    }

    @Override
    public ByteBuffer[] nioBuffers(int index, int length) {
        return new ByteBuffer[] {nioBuffer(index, length)};
    }

    /** A fresh big-endian view of {@code length} bytes at {@code index}, positioned at 0. */
    private ByteBuffer view(int index, int length) {
        return segment.asSlice(index, length).asByteBuffer();
    }
}
