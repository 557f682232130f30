package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The protobuf encoder behind the pprof writer produces the wire format byte for byte: the
 * expected bytes are worked out by hand from the format's rules (7-bit groups, low first,
 * continuation bit; key = field number << 3 | wire type). The full round trip through a real
 * protobuf parser is {@code PprofFormatTest} in allocator-tests.
 */
class ProtoEncoderTest {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static byte[] varint(long value) {
        ProtoEncoder encoder = new ProtoEncoder();
        encoder.varint(value);
        return encoder.toByteArray();
    }

    @Test
    void varintsTakeSevenBitsPerByteLowBitsFirst() {
        assertArrayEquals(bytes(0x00), varint(0));
        assertArrayEquals(bytes(0x01), varint(1));
        assertArrayEquals(bytes(0x7F), varint(127));
        assertArrayEquals(bytes(0x80, 0x01), varint(128));
        // 300 = 0b10_0101100: low group 0101100 with the continuation bit, then 10.
        assertArrayEquals(bytes(0xAC, 0x02), varint(300));
        assertArrayEquals(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), varint(Long.MAX_VALUE));
        // A negative int64 is its two's complement: 64 bits, so ten bytes.
        assertArrayEquals(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), varint(-1));
        for (long value : new long[] {0, 1, 127, 128, 16_383, 16_384, Long.MAX_VALUE, -1, Long.MIN_VALUE}) {
            assertEquals(varint(value).length, ProtoEncoder.varintLength(value), "length of " + value);
        }
    }

    @Test
    void fieldsAreKeyedByNumberAndWireType() {
        // Field 1 = 150: key 0x08, then 150 as a varint.
        assertArrayEquals(bytes(0x08, 0x96, 0x01), new ProtoEncoder().int64(1, 150).toByteArray());
        assertArrayEquals(new byte[0], new ProtoEncoder().int64(1, 0).bool(2, false).toByteArray(), "defaults are left out");
        assertArrayEquals(bytes(0x38, 0x01), new ProtoEncoder().bool(7, true).toByteArray());
        // Field 6 = "ab": key 6 << 3 | 2 = 0x32, length 2, the bytes; an empty string is still written.
        assertArrayEquals(bytes(0x32, 0x02, 'a', 'b', 0x32, 0x00), new ProtoEncoder().string(6, "ab").string(6, "").toByteArray());
        // UTF-8, length in bytes: "é" is two bytes.
        assertArrayEquals(bytes(0x0A, 0x02, 0xC3, 0xA9), new ProtoEncoder().string(1, "\u00e9").toByteArray());
        // Field 16 needs a two-byte key: 16 << 3 = 128.
        assertArrayEquals(bytes(0x80, 0x01, 0x05), new ProtoEncoder().int64(16, 5).toByteArray());
    }

    @Test
    void nestedMessagesAndPackedListsAreLengthDelimited() {
        ProtoEncoder inner = new ProtoEncoder().int64(1, 3).int64(2, 300);
        assertArrayEquals(bytes(0x22, 0x05, 0x08, 0x03, 0x10, 0xAC, 0x02), new ProtoEncoder().message(4, inner).toByteArray());
        assertArrayEquals(bytes(0x22, 0x00), new ProtoEncoder().message(4, new ProtoEncoder()).toByteArray(),
                "an empty message in a repeated field is still an entry");
        // Packed [1, 300, 2]: key 0x12, payload 1 + 2 + 1 = 4 bytes.
        assertArrayEquals(bytes(0x12, 0x04, 0x01, 0xAC, 0x02, 0x02), new ProtoEncoder().packed(2, new long[] {1, 300, 2}).toByteArray());
        assertArrayEquals(new byte[0], new ProtoEncoder().packed(2, new long[0]).toByteArray());
        assertArrayEquals(bytes(0x08, 0x01, 0x10, 0x02),
                new ProtoEncoder().int64(1, 1).fields(new ProtoEncoder().int64(2, 2)).toByteArray(), "fields joined");
    }

    @Test
    void aGrowingMessageKeepsEveryByte() {
        ProtoEncoder encoder = new ProtoEncoder();
        for (int i = 0; i < 10_000; i++) {
            encoder.int64(1, 300);
        }
        byte[] out = encoder.toByteArray();
        assertEquals(30_000, out.length);
        for (int i = 0; i < out.length; i += 3) {
            assertArrayEquals(bytes(0x08, 0xAC, 0x02), java.util.Arrays.copyOfRange(out, i, i + 3), "at " + i);
        }
    }

    @Test
    void aFieldNumberOutsideTheFormatIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ProtoEncoder().int64(0, 1));
        assertEquals("protobuf field number must be 1 to 2^29-1, was 0", e.getMessage());
    }
}
