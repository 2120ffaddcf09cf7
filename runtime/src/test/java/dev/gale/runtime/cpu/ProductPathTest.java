package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gale.model.gguf.GgmlType;
import org.junit.jupiter.api.Test;

class ProductPathTest {
    @Test
    void q8_0TakesItsTokenPathUpToNineTokensThenBlockGemm() {
        WeightKernel k = Q8_0Kernel.INSTANCE;
        assertEquals(ProductPath.ROWS, ProductPath.of(k, 1, 2048));
        assertEquals(ProductPath.ROWS, ProductPath.of(k, 3, 2048));
        assertEquals(ProductPath.TOKENS, ProductPath.of(k, 4, 2048));
        assertEquals(ProductPath.TOKENS, ProductPath.of(k, Q8_0Kernel.MAX_TOKEN_ROWS, 2048));
        assertEquals(ProductPath.BLOCK, ProductPath.of(k, Q8_0Kernel.MAX_TOKEN_ROWS + 1, 2048));
        // rows shorter than Q8_0Kernel.WIDE keep ggml's arithmetic: row by row
        assertEquals(ProductPath.ROWS, ProductPath.of(k, 37, Q8_0Kernel.WIDE - 32));
        assertEquals(ProductPath.BLOCK, ProductPath.of(k, 37, Q8_0Kernel.WIDE));
    }

    @Test
    void repackedQ6_KTakesTheFloatPanelBelowSixteenTokens() {
        WeightKernel k = ByteQuantKernel.forType(GgmlType.Q6_K);
        assertEquals(ProductPath.ROWS, ProductPath.of(k, 1, 2048));
        assertEquals(ProductPath.PANEL, ProductPath.of(k, 2, 2048));
        assertEquals(ProductPath.PANEL, ProductPath.of(k, k.blockMinTokens() - 1, 2048));
        assertEquals(ProductPath.BLOCK, ProductPath.of(k, k.blockMinTokens(), 2048));
    }

    @Test
    void inPlaceK_QuantsHaveOnlyTheFloatPanel() {
        assertEquals(ProductPath.PANEL, ProductPath.of(Q4_KKernel.INSTANCE, 2, 2048));
        assertEquals(ProductPath.PANEL, ProductPath.of(Q4_KKernel.INSTANCE, 128, 2048));
        assertEquals(ProductPath.BLOCK, ProductPath.of(F16Kernel.INSTANCE, BlockGemm.MIN_TOKENS, 2048));
        assertEquals(ProductPath.ROWS, ProductPath.of(F16Kernel.INSTANCE, BlockGemm.MIN_TOKENS - 1, 2048));
    }
}
