package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Float16;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.tensor.UnsupportedTensorTypeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector kernels and the portable ones against a plain reference: the weight row dequantized by the model module's reference
 * {@link Tensor#dequantizeRow} and the activation in its rounded/quantized form, multiplied and summed in double.
 */
class MatMulTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final WorkerPool POOL = new WorkerPool(2);

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
                GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            int[] widths = switch (type.blockSize()) {
                case 1 -> new int[] {7, 64, 100, 256};
                case 32 -> new int[] {32, 96, 256, 512};
                default -> new int[] {256, 768};
            };
            for (int width : widths) {
                // 8 and 16: one tile of pairs for the types that take BlockGemm (16 for Q5_K and Q6_K); 37: a pair of
                // tiles and a float tile
                for (int tokens : new int[] {1, 2, 5, 8, 16, 37}) {
                    b.add(Arguments.of(type, width, 13, tokens, false));
                }
                b.add(Arguments.of(type, width, 13, 1, true));
                b.add(Arguments.of(type, width, 13, 5, true));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} width {1} rows {2} tokens {3} portable {4}")
    @MethodSource("cases")
    void matchesReference(GgmlType type, int width, int rows, int tokens, boolean portable) {
        Random rnd = new Random(type.ordinal() * 1000L + width * 10L + tokens);
        Tensor w = randomTensor(type, width, rows, rnd);
        assertMatchesReference(new MatMul(POOL, portable), w, tokens, rnd);
    }

    /**
     * Multiplies {@code w} with {@code tokens} random activation rows (every seventh value three times larger) and
     * checks each result against the reference, to 2e-6 of the sum of the products' magnitudes.
     */
    private static void assertMatchesReference(MatMul mm, Tensor w, int tokens, Random rnd) {
        assertMatchesReference(mm, w, w.type(), tokens, rnd);
    }

    /** {@link #assertMatchesReference} with the activations in the form that {@code form}'s kernels read. */
    private static void assertMatchesReference(MatMul mm, Tensor w, GgmlType form, int tokens, Random rnd) {
        GgmlType type = w.type();
        int width = w.rowLength();
        int rows = w.rows();
        ActivationRows x = new ActivationRows(tokens, width);
        for (int i = 0; i < tokens * width; i++) {
            x.values()[i] = (float) rnd.nextGaussian() * (i % 7 == 0 ? 3f : 1f);
        }
        x.set(tokens);
        float[] out = new float[tokens * rows + 3];
        mm.apply(w, x, out, 0, rows, rows, 3);
        float[] row = new float[width];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < tokens; t++) {
                float[] in = activationForm(form, x, t);
                double ref = 0;
                double scale = 0;
                for (int i = 0; i < width; i++) {
                    ref += (double) row[i] * in[i];
                    scale += Math.abs((double) row[i] * in[i]);
                }
                assertEquals(ref, out[t * rows + 3 + r], 2e-6 * scale + 1e-30,
                        type + " row " + r + " token " + t);
            }
        }
    }

    /**
     * A row's result does not depend on the rest of the batch: alone (the decode kernels) it is bit for bit what it
     * is among others (the panel kernels), except where the batch takes {@link BlockGemm} (F16 and BF16; Q8_0 and
     * Q4_0 on rows of {@value Q8_0Kernel#WIDE} elements or more), which adds in another order: there the two agree
     * to float rounding. Q8_0 and Q4_0 rows shorter than that keep ggml's arithmetic in the batch, bit for bit.
     */
    @ParameterizedTest(name = "{0} portable {1}")
    @MethodSource("types")
    void aRowIsTheSameAloneAndInABatch(GgmlType type, boolean portable) {
        int[] widths = type.blockSize() == 256 ? new int[] {512} : type.blockSize() == 32 ? new int[] {96, 512}
                : new int[] {96};
        for (int width : widths) {
            Random rnd = new Random(type.ordinal() + width);
            Tensor w = randomTensor(type, width, 9, rnd);
            // 37 tokens: a pair of 16-token tiles and a partial tile where the batch takes BlockGemm
            ActivationRows batch = new ActivationRows(37, width);
            for (int i = 0; i < 37 * width; i++) {
                batch.values()[i] = (float) rnd.nextGaussian();
            }
            batch.set(37);
            MatMul mm = new MatMul(POOL, portable);
            boolean blockProduct = !portable && (type == GgmlType.F16 || type == GgmlType.BF16
                    || (type == GgmlType.Q8_0 || type == GgmlType.Q4_0) && width >= Q8_0Kernel.WIDE);
            float[] together = new float[37 * 9];
            mm.apply(w, batch, together);
            ActivationRows one = new ActivationRows(1, width);
            float[] alone = new float[9];
            for (int t = 0; t < 37; t++) {
                System.arraycopy(batch.values(), t * width, one.values(), 0, width);
                one.set(1);
                mm.apply(w, one, alone);
                for (int r = 0; r < 9; r++) {
                    String what = type + " width " + width + " row " + r + " token " + t;
                    if (blockProduct) {
                        assertEquals(alone[r], together[t * 9 + r], 1e-5f * Math.max(1f, Math.abs(alone[r])), what);
                    } else {
                        assertEquals(Float.floatToIntBits(alone[r]), Float.floatToIntBits(together[t * 9 + r]),
                                what + ": " + alone[r] + " vs " + together[t * 9 + r]);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} tokens {1} width {2}")
    @MethodSource("vectorTypesAndTokens")
    @org.junit.jupiter.params.provider.CsvSource({"Q8_0, 1, 1056", "Q8_0, 3, 1056"})
    void decodeOfFourOrEightRowsAtOnceIsEachRowsDot(GgmlType type, int tokens, int wideWidth) {
        Random rnd = new Random(31 + type.ordinal());
        int width = wideWidth > 0 ? wideWidth : switch (type.blockSize()) {
            case 1 -> 100;
            case 32 -> 96;
            default -> 512;
        };
        Tensor w = randomTensor(type, width, 1000, rnd);
        ActivationRows x = new ActivationRows(tokens, width);
        for (int i = 0; i < tokens * width; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(tokens);
        float[] out = new float[tokens * 987 + 2];
        new MatMul(POOL, false).apply(w, x, out, 5, 987, 987, 2);
        WeightKernel k = WeightKernel.of(w);
        k.prepare(x, ProductPath.ROWS);
        float[] lanes = new float[WeightKernel.SCRATCH];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < 987; r++) {
                float dot = k.dot(w.data(), (5L + r) * w.rowBytes(), x, t, lanes);
                assertEquals(Float.floatToIntBits(dot), Float.floatToIntBits(out[t * 987 + 2 + r]),
                        type + " row " + (5 + r) + " token " + t);
            }
        }
    }

    static Stream<Arguments> vectorTypesAndTokens() {
        return Stream.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K,
                GgmlType.Q5_K, GgmlType.Q6_K).flatMap(t -> Stream.of(Arguments.of(t, 1, 0), Arguments.of(t, 3, 0)));
    }

    static Stream<Arguments> types() {
        return Stream.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K,
                GgmlType.Q5_K, GgmlType.Q6_K).flatMap(t -> Stream.of(Arguments.of(t, false), Arguments.of(t, true)));
    }

    static Stream<Arguments> repackedCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        // whole groups of 32 blocks (1024 elements) are transposed: none, one, and two plus a block after them
        for (int width : new int[] {32, 96, 1024, 2080}) {
            for (int tokens : new int[] {1, 3, 8, 37}) {
                b.add(Arguments.of(GgmlType.Q4_0, width, tokens));
            }
        }
        // Q4_K: 8 blocks of 32 a super-block; no whole group, one, one and 8 blocks, two
        for (int width : new int[] {256, 1024, 1280, 2048}) {
            for (int tokens : new int[] {1, 3, 8, 37}) {
                b.add(Arguments.of(GgmlType.Q4_K, width, tokens));
            }
        }
        return b.build();
    }

    /**
     * The repacked Q4_0 and Q4_K kernels ({@link RepackedMatrices}), decode (1 and 3 tokens) and batched (8 and 37),
     * against the same reference as the in-place kernels, at the same tolerance; both read Q8_0 activations.
     */
    @ParameterizedTest(name = "{0} width {1} tokens {2}")
    @MethodSource("repackedCases")
    void repackedMatchesReference(GgmlType type, int width, int tokens) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.WIDE_VECTORS, "the repacked kernels need 512-bit vectors");
        Random rnd = new Random(type.ordinal() * 77L + width + tokens);
        int rows = 21;
        Tensor w = randomTensor(type, width, rows, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(w), POOL);
        assertEquals(1, repacked.count());
        assertEquals(rows * (type == GgmlType.Q4_0 ? 20L : 24L) * (width / 32), repacked.bytes());
        assertEquals(w.data().byteSize(), repacked.sourceBytes());
        assertMatchesReference(new MatMul(POOL, false, repacked), w, GgmlType.Q8_0, tokens, rnd);
    }

    /**
     * A row shorter than a group of 32 blocks takes {@link Q4_0Kernel}'s arithmetic on the repacked bytes: bit for
     * bit the in-place kernel's result in decode, so the test models keep ggml's results exactly.
     */
    @ParameterizedTest(name = "tokens {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 3})
    void repackedRowsShorterThanAGroupAreBitForBitTheInPlaceKernels(int tokens) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.WIDE_VECTORS, "the repacked kernels need 512-bit vectors");
        Random rnd = new Random(5 + tokens);
        Tensor w = randomTensor(GgmlType.Q4_0, 992, 40, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(w), POOL);
        ActivationRows x = randomRows(tokens, 992, rnd);
        float[] inPlace = new float[tokens * 40];
        float[] fromCopy = new float[tokens * 40];
        new MatMul(POOL, false).apply(w, x, inPlace);
        new MatMul(POOL, false, repacked).apply(w, x, fromCopy);
        for (int i = 0; i < inPlace.length; i++) {
            assertEquals(Float.floatToIntBits(inPlace[i]), Float.floatToIntBits(fromCopy[i]), "output " + i);
        }
    }

    /**
     * A small batch on the repacked Q4_0 and Q4_K kernels (four tokens at a time, {@link WeightKernel#dotTokens4}, then one at
     * a time) gives each token bit for bit what it gets alone, with and without blocks after the last whole group.
     */
    @ParameterizedTest(name = "{0} width {1} tokens {2}")
    @org.junit.jupiter.params.provider.CsvSource({"Q4_0, 2048, 4", "Q4_0, 2048, 7", "Q4_0, 2080, 9", "Q4_0, 96, 5",
            "Q4_0, 1024, 16", "Q4_K, 2048, 4", "Q4_K, 1280, 9", "Q4_K, 256, 5", "Q4_K, 2304, 16"})
    void repackedBatchIsBitForBitEachTokenAlone(GgmlType type, int width, int tokens) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.WIDE_VECTORS, "the repacked kernels need 512-bit vectors");
        Random rnd = new Random(width + tokens);
        Tensor w = randomTensor(type, width, 150, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(w), POOL);
        assertBatchIsBitForBitEachTokenAlone(new MatMul(POOL, false, repacked), w, tokens, rnd);
    }

    /**
     * A small batch on Q8_0 ({@link WeightKernel#dotTokens4} up to {@link Q8_0Kernel#MAX_TOKEN_ROWS} tokens) gives
     * each token bit for bit what it gets alone: in the float form of rows of 256 elements or more, and in ggml's
     * arithmetic on shorter rows.
     */
    @ParameterizedTest(name = "width {0} tokens {1}")
    @org.junit.jupiter.params.provider.CsvSource({"2048, 4", "2048, 7", "1056, 9", "96, 5", "1024, 8"})
    void q8_0SmallBatchIsBitForBitEachTokenAlone(int width, int tokens) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.WIDE_VECTORS, "the token path needs 512-bit vectors");
        Random rnd = new Random(3 * width + tokens);
        Tensor w = randomTensor(GgmlType.Q8_0, width, 150, rnd);
        assertBatchIsBitForBitEachTokenAlone(new MatMul(POOL, false), w, tokens, rnd);
    }

    /** Multiplies {@code w} with a batch of random rows, then with each row alone, and compares the bits. */
    private static void assertBatchIsBitForBitEachTokenAlone(MatMul mm, Tensor w, int tokens, Random rnd) {
        int width = w.rowLength();
        int rows = w.rows();
        ActivationRows batch = randomRows(tokens, width, rnd);
        float[] together = new float[tokens * rows];
        mm.apply(w, batch, together);
        ActivationRows one = new ActivationRows(1, width);
        float[] alone = new float[rows];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(batch.values(), t * width, one.values(), 0, width);
            one.set(1);
            mm.apply(w, one, alone);
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToIntBits(alone[r]), Float.floatToIntBits(together[t * rows + r]),
                        "row " + r + " token " + t);
            }
        }
    }

    /**
     * Q8_0 rows of 256 elements or more take the float form ({@link Q8_0Kernel#WIDE}): against the reference at the
     * in-place kernels' tolerance, in decode, on the token path (4 and 9 tokens) and through {@link BlockGemm}
     * (10 and 37).
     */
    @ParameterizedTest(name = "width {0} tokens {1}")
    @org.junit.jupiter.params.provider.CsvSource({"1024, 1", "1024, 4", "1024, 10", "2080, 1", "2080, 3", "2080, 9",
            "2080, 37"})
    void wideQ8_0MatchesReference(int width, int tokens) {
        Random rnd = new Random(width * 7L + tokens);
        assertMatchesReference(new MatMul(POOL, false), randomTensor(GgmlType.Q8_0, width, 21, rnd), tokens, rnd);
    }

    private static ActivationRows randomRows(int tokens, int width, Random rnd) {
        ActivationRows x = new ActivationRows(tokens, width);
        for (int i = 0; i < tokens * width; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(tokens);
        return x;
    }

    /**
     * Decode on the repacked kernels reads four rows at a time ({@link WeightKernel#dot4}): each row's result is bit
     * for bit its {@link WeightKernel#dot}, with two whole groups and blocks after them, for one token and three
     * (Q6_K, Q5_K: one; their batches of two tokens or more take a panel).
     */
    @ParameterizedTest(name = "{0} tokens {1}")
    @org.junit.jupiter.params.provider.CsvSource({"Q4_0, 1", "Q4_0, 3", "Q4_K, 1", "Q4_K, 3", "Q6_K, 1", "Q5_K, 1"})
    void repackedDecodeOfFourRowsAtOnceIsEachRowsDot(GgmlType type, int tokens) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.WIDE_VECTORS, "the repacked kernels need 512-bit vectors");
        Random rnd = new Random(11 + tokens);
        int width = type == GgmlType.Q4_0 ? 2080 : 2304;
        Tensor w = randomTensor(type, width, 203, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(w), POOL);
        ActivationRows x = new ActivationRows(tokens, width);
        for (int i = 0; i < tokens * width; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(tokens);
        float[] out = new float[tokens * 197];
        new MatMul(POOL, false, repacked).apply(w, x, out, 5, 197, 197, 0);
        RepackedMatrices.Matrix m = repacked.find(w);
        m.kernel().prepare(x, ProductPath.ROWS);
        float[] lanes = new float[WeightKernel.SCRATCH];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < 197; r++) {
                float dot = m.kernel().dot(m.data(), (5L + r) * m.rowBytes(), x, t, lanes);
                assertEquals(Float.floatToIntBits(dot), Float.floatToIntBits(out[t * 197 + r]),
                        "row " + (5 + r) + " token " + t);
            }
        }
    }

    /**
     * Q8_0 matrices of wide rows get a float copy of their block scales ({@link Q8_0Kernel#withScales}), read by
     * decode: the results are bit for bit those of the kernel that converts the file's scales, in decode (1 and 3
     * tokens), on the token path (5) and through {@link BlockGemm} (37).
     */
    @ParameterizedTest(name = "tokens {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 3, 5, 37})
    void q8_0ScaleCopiesGiveTheSameResultsBitForBit(int tokens) {
        Random rnd = new Random(17 + tokens);
        Tensor w = randomTensor(GgmlType.Q8_0, 2080, 133, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(w), POOL);
        assertEquals(1, repacked.count());
        assertEquals(133 * 65 * 4L, repacked.bytes());
        assertEquals(0, repacked.sourceBytes());
        ActivationRows x = randomRows(tokens, 2080, rnd);
        float[] fromFile = new float[tokens * 133];
        float[] withCopies = new float[tokens * 133];
        new MatMul(POOL, false).apply(w, x, fromFile);
        MatMul mm = new MatMul(POOL, false, repacked);
        mm.apply(w, x, withCopies);
        assertEquals(w.data().byteSize() + 133 * 65 * 4L, mm.weightBytes(w));
        for (int i = 0; i < fromFile.length; i++) {
            assertEquals(Float.floatToIntBits(fromFile[i]), Float.floatToIntBits(withCopies[i]), "output " + i);
        }
    }

    /** The memory check before repacking: the bytes the copies need, and what the system has available. */
    @Test
    void repackingKnowsItsMemoryNeeds() {
        Random rnd = new Random(4);
        Tensor q4 = randomTensor(GgmlType.Q4_0, 2048, 3, rnd);
        Tensor q8 = randomTensor(GgmlType.Q8_0, 2048, 3, rnd);
        Tensor q4k = randomTensor(GgmlType.Q4_K, 2048, 2, rnd);
        Tensor q6k = randomTensor(GgmlType.Q6_K, 2048, 5, rnd);
        Tensor q5k = randomTensor(GgmlType.Q5_K, 512, 7, rnd);
        // Q4_0: 20 bytes a block; Q8_0 rows of 2048: a float scale a block; Q4_K: 24 bytes a block; Q6_K: 276 bytes
        // a super-block; Q5_K: 280
        assertEquals(3 * 64 * 20L + 3 * 64 * 4L + 2 * 64 * 24L + 5 * 8 * 276L + 7 * 2 * 280L,
                RepackedMatrices.bytesNeeded(java.util.List.of(q4, q8, q4k, q4, q6k, q5k)));
        if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/meminfo"))) {
            assertTrue(RepackedMatrices.availableMemory() > 0);
        }
    }

    /** Only Q4_0 and the k-quant matrices are repacked, each once however often it is listed. */
    @Test
    void repacksOnlyQ4_0AndKQuantMatricesOnce() {
        Random rnd = new Random(9);
        Tensor q4 = randomTensor(GgmlType.Q4_0, 64, 3, rnd);
        Tensor q8 = randomTensor(GgmlType.Q8_0, 64, 3, rnd);
        Tensor q4k = randomTensor(GgmlType.Q4_K, 256, 3, rnd);
        Tensor q5k = randomTensor(GgmlType.Q5_K, 256, 3, rnd);
        Tensor q6k = randomTensor(GgmlType.Q6_K, 256, 3, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(q4, q8, q4k, q5k, q6k, q4, q4k, q6k), POOL);
        assertEquals(4, repacked.count());
        assertTrue(repacked.find(q8) == null);
        assertTrue(repacked.find(q4) != null && repacked.find(q4k) != null && repacked.find(q5k) != null
                && repacked.find(q6k) != null);
    }

    /**
     * Q5_K and Q6_K repacked ({@link ByteQuantKernel}: a byte a quant) against the reference with Q8_0 activations, at
     * the usual tolerance: decode (1 token: four rows at a time and the rest one by one), the small batches' float
     * panel (3, 5 and 8 tokens) and {@link BlockGemm} (16 tokens and more), with rows of one super-block and of
     * several. A quant, a scale or a minimum taken from the wrong bits by the repack would break it.
     */
    @ParameterizedTest(name = "{0} width {1} tokens {2}")
    @org.junit.jupiter.params.provider.CsvSource({"Q5_K, 2304, 1", "Q5_K, 256, 1", "Q5_K, 2304, 3", "Q5_K, 1024, 8",
            "Q5_K, 256, 16", "Q5_K, 2304, 37", "Q6_K, 2304, 1", "Q6_K, 256, 1", "Q6_K, 2304, 3", "Q6_K, 1024, 5",
            "Q6_K, 256, 8", "Q6_K, 256, 16", "Q6_K, 2304, 37", "Q6_K, 1024, 20"})
    void repackedByteKQuantsMatchTheReference(GgmlType type, int width, int tokens) {
        Random rnd = new Random(31 + width + tokens + type.ordinal());
        int rows = 29;
        long blockBytes = type == GgmlType.Q5_K ? 280 : 276;
        Tensor w = randomTensor(type, width, rows, rnd);
        RepackedMatrices repacked = RepackedMatrices.of(java.util.List.of(w), POOL);
        assertEquals(1, repacked.count());
        assertEquals(rows * (width / 256) * blockBytes, repacked.bytes());
        assertEquals(w.data().byteSize(), repacked.sourceBytes());
        MatMul mm = new MatMul(POOL, false, repacked);
        assertEquals(rows * (width / 256) * blockBytes, mm.weightBytes(w));
        assertMatchesReference(mm, w, GgmlType.Q8_0, tokens, rnd);
    }

    @Test
    void writesOnlyTheRequestedRows() {
        Random rnd = new Random(7);
        Tensor w = randomTensor(GgmlType.Q8_0, 64, 10, rnd);
        ActivationRows x = new ActivationRows(1, 64);
        for (int i = 0; i < 64; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(1);
        float[] all = new float[10];
        MatMul mm = new MatMul(POOL);
        mm.apply(w, x, all);
        float[] part = new float[4];
        mm.apply(w, x, part, 3, 4, 4, 0);
        for (int i = 0; i < 4; i++) {
            assertEquals(all[3 + i], part[i]);
        }
    }

    @Test
    void rejectsMismatchedShapesAndUnsupportedTypes() {
        Random rnd = new Random(3);
        ActivationRows x = new ActivationRows(1, 64);
        x.set(1);
        MatMul mm = new MatMul(POOL);
        Tensor narrow = randomTensor(GgmlType.F32, 32, 4, rnd);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mm.apply(narrow, x, new float[4]));
        assertTrue(e.getMessage().contains("row length 32 != input width 64"), e.getMessage());
        Tensor q41 = new Tensor("blk.0.ffn_up.weight", GgmlType.Q4_1, new long[] {64, 2},
                Arena.ofAuto().allocate(GgmlType.Q4_1.byteSize(128)));
        UnsupportedTensorTypeException u = assertThrows(UnsupportedTensorTypeException.class,
                () -> mm.apply(q41, x, new float[2]));
        assertTrue(u.getMessage().contains("blk.0.ffn_up.weight") && u.getMessage().contains("Q4_1"), u.getMessage());
    }

    /** The activation row as the kernels for {@code type} see it. */
    static float[] activationForm(GgmlType type, ActivationRows x, int t) {
        int width = x.width();
        float[] row = new float[width];
        switch (type) {
            case F32 -> System.arraycopy(x.values, t * width, row, 0, width);
            case F16, BF16 -> System.arraycopy(x.rounded(type), t * width, row, 0, width);
            case Q8_0, Q4_0 -> {
                x.prepareQ8_0();
                for (int i = 0; i < width; i++) {
                    row[i] = x.q8Scale[(t * width + i) / 32] * x.q8[t * width + i];
                }
            }
            default -> {
                x.prepareQ8_K();
                System.arraycopy(x.qkValues, t * width, row, 0, width);
            }
        }
        return row;
    }

    /** A tensor of {@code rows} random rows in {@code type}'s block layout, with realistic scales. */
    static Tensor randomTensor(GgmlType type, int width, int rows, Random rnd) {
        long bytes = type.byteSize((long) width * rows);
        MemorySegment seg = Arena.ofAuto().allocate(bytes + 1, 1).asSlice(1, bytes); // unaligned on purpose
        int blocks = (int) ((long) width * rows / type.blockSize());
        switch (type) {
            case F32 -> {
                for (int i = 0; i < blocks; i++) {
                    seg.set(F32, 4L * i, (float) rnd.nextGaussian() * 0.02f);
                }
            }
            case F16 -> {
                for (int i = 0; i < blocks; i++) {
                    // include fp16 subnormals
                    float v = (float) rnd.nextGaussian() * (i % 5 == 0 ? 1e-5f : 0.02f);
                    seg.set(I16, 2L * i, Float16.fromFloat(v));
                }
            }
            case BF16 -> {
                for (int i = 0; i < blocks; i++) {
                    seg.set(I16, 2L * i, Float16.floatToBf16((float) rnd.nextGaussian() * 0.02f));
                }
            }
            default -> {
                byte[] raw = new byte[(int) bytes];
                rnd.nextBytes(raw);
                MemorySegment.copy(raw, 0, seg, ValueLayout.JAVA_BYTE, 0, raw.length);
                for (int i = 0; i < blocks; i++) {
                    long p = (long) i * type.blockBytes();
                    switch (type) {
                        case Q8_0, Q4_0 -> seg.set(I16, p, Float16.fromFloat(0.001f + rnd.nextFloat() * 0.01f));
                        case Q4_K, Q5_K -> {
                            seg.set(I16, p, Float16.fromFloat(0.001f + rnd.nextFloat() * 0.001f));
                            seg.set(I16, p + 2, Float16.fromFloat(0.001f + rnd.nextFloat() * 0.001f));
                        }
                        case Q6_K -> seg.set(I16, p + 208, Float16.fromFloat(0.0001f + rnd.nextFloat() * 0.0001f));
                        default -> throw new IllegalArgumentException(type.toString());
                    }
                }
            }
        }
        return new Tensor("w", type, new long[] {width, rows}, seg);
    }
}
