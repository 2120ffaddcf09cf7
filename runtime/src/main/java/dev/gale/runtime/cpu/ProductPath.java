package dev.gale.runtime.cpu;

/**
 * How {@link MatMul} multiplies a batch of activation rows with one weight matrix. {@link MatMul} chooses it
 * ({@link #of}) and each kernel prepares the activation form that path reads ({@link WeightKernel#prepare}).
 */
enum ProductPath {
    /** Row by row, each token through the decode kernel ({@link WeightKernel#dot}, {@link WeightKernel#dot4}). */
    ROWS,
    /** Row by row, four tokens at a time ({@link WeightKernel#dotTokens4}), on the decode form of the activations. */
    TOKENS,
    /** Weight rows expanded into the float panel ({@link WeightKernel#toPanel}) and multiplied by {@link FloatGemm}. */
    PANEL,
    /** {@link BlockGemm}: weight rows expanded block by block, times tiles of 16 tokens ({@link ActivationRows#prepareTiles}). */
    BLOCK;

    /**
     * The path for {@code tokens} activation rows through kernel {@code k}: its token path from
     * {@value MatMul#TOKEN_ROWS_MIN} tokens up to its {@link WeightKernel#maxTokenRows}; above, {@link BlockGemm} from
     * its {@link WeightKernel#blockMinTokens} on (for rows of {@code width} elements, from its
     * {@link WeightKernel#blockMinWidth} on) and the float panel below that where it has one; else row by row.
     */
    static ProductPath of(WeightKernel k, int tokens, int width) {
        if (tokens >= MatMul.TOKEN_ROWS_MIN && tokens <= k.maxTokenRows()) {
            return TOKENS;
        }
        if (k.blockProduct() && tokens >= k.blockMinTokens() && width >= k.blockMinWidth()) {
            return BLOCK;
        }
        if (k.panelProduct() && tokens >= MatMul.PANEL_MIN_ROWS) {
            return PANEL;
        }
        return ROWS;
    }
}
