package dev.gale.tornado.plan;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Quantizer;
import dev.gale.model.tensor.Tensor;
import dev.gale.tornado.kernels.PackedWeights;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashSet;
import java.util.Set;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * A weight matrix as the kernels read it: the GGUF bytes of one or more tensors with the same row length, their
 * rows stacked in order (e.g. Q, K, V), viewed as 16-bit words.
 *
 * <p>The kernels decode F32, F16, BF16, Q8_0 and Q4_0. Any other type the model layer can decode (the k-quants of
 * Q4_K_M, Q5_K_M and Q6_K files), and parts of different types stacked into one matrix (a Q4_K_M file's Q6_K
 * {@code attn_v} beside Q4_K {@code attn_q}), are requantized to Q8_0 on the way to the device: each row's values
 * as the CPU backend decodes them, quantized as llama-quantize's reference Q8_0 does. The device then holds 8.5
 * bits per weight instead of 4.5–6.6, and computes with those values ({@code requantized} says so).
 *
 * @param words       the packed rows
 * @param type        GGUF type code ({@link PackedWeights})
 * @param rows        rows in all
 * @param cols        values per row
 * @param requantized whether the parts were requantized to Q8_0
 */
public record PackedMatrix(ShortArray words, int type, int rows, int cols, boolean requantized) {
    /** The types the kernels read as they are. */
    private static final Set<GgmlType> DEVICE_TYPES = Set.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0);

    /** Copies {@code parts} (same row length) into one device array, rows in order. */
    static PackedMatrix stack(Tensor... parts) {
        GgmlType type = deviceType(parts);
        Tensor first = parts[0];
        int cols = first.rowLength();
        int rows = 0;
        for (Tensor t : parts) {
            rows += t.rows();
        }
        long bytes = bytesAs(type, parts);
        if (bytes / 2 > Integer.MAX_VALUE - 64) {
            throw new UnsupportedModelException("the tornadovm backend cannot hold " + first.name() + " ("
                    + bytes + " bytes) in one device array");
        }
        ShortArray words = new ShortArray((int) (bytes / 2));
        MemorySegment dst = words.getSegment();
        long offset = 0;
        boolean requantized = false;
        for (Tensor t : parts) {
            long partBytes = type.byteSize(t.elementCount());
            if (t.type() != type) {
                requantized = true;
                Quantizer.quantizeRows(type, t.rows(), cols, (r, row) -> t.dequantizeRow(Math.toIntExact(r), row, 0),
                        dst.asSlice(offset, partBytes));
            } else {
                MemorySegment.copy(t.data(), 0, dst, offset, partBytes);
            }
            offset += partBytes;
        }
        return new PackedMatrix(words, typeCode(type), rows, cols, requantized);
    }

    /**
     * The type {@code parts} have on the device: theirs when they share one the kernels read, else Q8_0. Fails,
     * naming the tensors, when their rows differ in length or are not whole blocks of that type.
     */
    static GgmlType deviceType(Tensor... parts) {
        Tensor first = parts[0];
        boolean same = true;
        for (Tensor t : parts) {
            if (t.rowLength() != first.rowLength()) {
                throw new UnsupportedModelException("the tornadovm backend computes " + first.name() + " and "
                        + t.name() + " in one kernel, which needs one row length, but they have " + first.rowLength()
                        + " and " + t.rowLength() + " values");
            }
            same &= t.type() == first.type();
        }
        GgmlType type = same && DEVICE_TYPES.contains(first.type()) ? first.type() : GgmlType.Q8_0;
        int granule = type == GgmlType.Q8_0 || type == GgmlType.Q4_0 ? 32 : 4;
        if (first.rowLength() % granule != 0) {
            Set<GgmlType> from = new LinkedHashSet<>();
            for (Tensor t : parts) {
                from.add(t.type());
            }
            String why = same && type == first.type() ? ""
                    : " (to which it requantizes " + String.join(" and ", from.stream().map(String::valueOf).toList()) + ")";
            throw new UnsupportedModelException("the tornadovm backend needs rows of a multiple of " + granule
                    + " values for " + type + why + ", but " + first.name() + " has " + first.rowLength());
        }
        return type;
    }

    /** Bytes of the device array that {@link #stack} makes of {@code parts}. */
    static long deviceBytes(Tensor... parts) {
        return bytesAs(deviceType(parts), parts);
    }

    private static long bytesAs(GgmlType type, Tensor... parts) {
        long n = 0;
        for (Tensor t : parts) {
            n += type.byteSize(t.elementCount());
        }
        return n;
    }

    private static int typeCode(GgmlType g) {
        return switch (g) {
            case F32 -> PackedWeights.F32;
            case F16 -> PackedWeights.F16;
            case BF16 -> PackedWeights.BF16;
            case Q8_0 -> PackedWeights.Q8_0;
            case Q4_0 -> PackedWeights.Q4_0;
            default -> throw new IllegalStateException("no kernel reads " + g);
        };
    }
}
