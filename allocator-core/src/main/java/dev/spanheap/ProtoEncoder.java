package dev.spanheap;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A minimal Protocol Buffers encoder, just what {@link PprofWriter} needs: varint fields, strings,
 * nested messages and packed repeated integers, appended to a growable byte array. The core module
 * has no dependencies, so it writes the wire format itself.
 *
 * <p>Wire format facts used here: a field starts with the varint key {@code (number << 3) | type},
 * type 0 for a varint and type 2 for a length-delimited payload (string, nested message, packed
 * list); a varint stores 7 bits per byte, low bits first, the top bit set on every byte but the
 * last; a negative {@code int64} is its 64-bit two's complement, so ten bytes.
 *
 * <p>Not thread-safe: one encoder builds one message.
 */
final class ProtoEncoder {

    private static final int VARINT = 0;
    private static final int LENGTH_DELIMITED = 2;

    private byte[] bytes = new byte[256];
    private int size;

    /** Bytes written so far. */
    int size() {
        return size;
    }

    /** A copy of the bytes written. */
    byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    /** An {@code int64} or {@code uint64} field; a zero value is left out, as proto3 does for defaults. */
    ProtoEncoder int64(int field, long value) {
        if (value != 0) {
            key(field, VARINT);
            varint(value);
        }
        return this;
    }

    /** A {@code bool} field; false is left out. */
    ProtoEncoder bool(int field, boolean value) {
        return int64(field, value ? 1 : 0);
    }

    /** A {@code string} field, always written (a repeated string must keep its empty entries). */
    ProtoEncoder string(int field, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        key(field, LENGTH_DELIMITED);
        varint(utf8.length);
        append(utf8, 0, utf8.length);
        return this;
    }

    /** A nested message field, always written (an empty message in a repeated field still counts). */
    ProtoEncoder message(int field, ProtoEncoder message) {
        key(field, LENGTH_DELIMITED);
        varint(message.size);
        append(message.bytes, 0, message.size);
        return this;
    }

    /**
     * Appends the fields {@code more} holds to this message's: a message is the concatenation of
     * its fields, in any order, so fields built apart can be joined.
     */
    ProtoEncoder fields(ProtoEncoder more) {
        append(more.bytes, 0, more.size);
        return this;
    }

    /** A packed repeated {@code int64}/{@code uint64} field; an empty list is left out. */
    ProtoEncoder packed(int field, long[] values) {
        if (values.length == 0) {
            return this;
        }
        int payload = 0;
        for (long v : values) {
            payload += varintLength(v);
        }
        key(field, LENGTH_DELIMITED);
        varint(payload);
        for (long v : values) {
            varint(v);
        }
        return this;
    }

    private void key(int field, int wireType) {
        if (field < 1 || field > (1 << 29) - 1) {
            throw new IllegalArgumentException("protobuf field number must be 1 to 2^29-1, was " + field);
        }
        varint(((long) field << 3) | wireType);
    }

    /** Appends {@code value} as a varint (unsigned: a negative value takes ten bytes). */
    void varint(long value) {
        ensure(10);
        while ((value & ~0x7FL) != 0) {
            bytes[size++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        bytes[size++] = (byte) value;
    }

    /** Bytes the varint of {@code value} takes: 1 to 10. */
    static int varintLength(long value) {
        int significantBits = 64 - Long.numberOfLeadingZeros(value);
        return Math.max(1, (significantBits + 6) / 7);
    }

    private void append(byte[] source, int offset, int length) {
        ensure(length);
        System.arraycopy(source, offset, bytes, size, length);
        size += length;
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            long wanted = Math.max((long) bytes.length * 2, (long) size + more);
            if (wanted > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("protobuf message over 2 GiB: " + size + " bytes plus " + more);
            }
            bytes = Arrays.copyOf(bytes, (int) wanted);
        }
    }
}
