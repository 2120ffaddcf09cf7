package dev.gale.tornado.plan;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.tornado.kernels.PackedWeights;
import java.lang.foreign.MemorySegment;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * A weight matrix as the kernels read it: the GGUF bytes of one or more tensors with the same row length, their
 * rows stacked in order (e.g. Q, K, V), viewed as 16-bit words.
 *
 * @param words the packed rows
 * @param type  GGUF type code ({@link PackedWeights})
 * @param rows  rows in all
 * @param cols  values per row
 */
public record PackedMatrix(ShortArray words, int type, int rows, int cols) {

    /** Copies {@code parts} (same type and row length) into one device array, rows in order. */
    static PackedMatrix stack(Tensor... parts) {
        Tensor first = parts[0];
        int rows = 0;
        for (Tensor t : parts) {
            if (t.type() != first.type() || t.rowLength() != first.rowLength()) {
                throw new UnsupportedModelException("the tornadovm backend computes " + first.name() + " and "
                        + t.name() + " in one kernel, which needs one type and row length, but they are "
                        + first.type() + " " + first.rowLength() + " and " + t.type() + " " + t.rowLength());
            }
            rows += t.rows();
        }
        int type = typeCode(first);
        int cols = first.rowLength();
        int granule = type == PackedWeights.Q8_0 || type == PackedWeights.Q4_0 ? 32 : 4;
        if (cols % granule != 0) {
            throw new UnsupportedModelException("the tornadovm backend needs rows of a multiple of " + granule
                    + " values for " + first.type() + ", but " + first.name() + " has " + cols);
        }
        long bytes = MemoryPlan.bytes(parts);
        if (bytes / 2 > Integer.MAX_VALUE - 64) {
            throw new UnsupportedModelException("the tornadovm backend cannot hold " + first.name() + " ("
                    + bytes + " bytes) in one device array");
        }
        ShortArray words = new ShortArray((int) (bytes / 2));
        MemorySegment dst = words.getSegment();
        long offset = 0;
        for (Tensor t : parts) {
            MemorySegment.copy(t.data(), 0, dst, offset, t.data().byteSize());
            offset += t.data().byteSize();
        }
        return new PackedMatrix(words, type, rows, cols);
    }

    private static int typeCode(Tensor t) {
        GgmlType g = t.type();
        return switch (g) {
            case F32 -> PackedWeights.F32;
            case F16 -> PackedWeights.F16;
            case BF16 -> PackedWeights.BF16;
            case Q8_0 -> PackedWeights.Q8_0;
            case Q4_0 -> PackedWeights.Q4_0;
            default -> throw new UnsupportedModelException("the tornadovm backend cannot compute with " + g
                    + " weights (" + t.name() + "); supported: F32, F16, BF16, Q8_0, Q4_0");
        };
    }
}
