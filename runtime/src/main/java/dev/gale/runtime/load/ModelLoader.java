package dev.gale.runtime.load;

import dev.gale.model.Model;
import dev.gale.model.gguf.GgufTensorInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a model and pages its weights into memory before the first token, so that the first forward pass is not
 * slowed by page faults. Large files show a progress bar on stderr while this happens.
 */
public final class ModelLoader {
    /** Files at least this large get a progress bar. */
    public static final long PROGRESS_THRESHOLD = 64L << 20;
    private static final long CHUNK = 16L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

    private ModelLoader() {}

    public static Model load(Path path, boolean progress, PrintStream err) throws IOException {
        long start = System.nanoTime();
        Model model = Model.open(path);
        try {
            long total = model.weightBytes();
            if (progress && total >= PROGRESS_THRESHOLD) {
                try (ProgressBar bar = new ProgressBarBuilder()
                        .setTaskName("Loading " + path.getFileName())
                        .setInitialMax(total >> 20)
                        .setUnit(" MiB", 1)
                        .setStyle(ProgressBarStyle.ASCII)
                        .setConsumer(new ConsoleProgressBarConsumer(err))
                        .build()) {
                    touch(model, bytes -> bar.stepTo(bytes >> 20));
                }
            } else {
                touch(model, bytes -> { });
            }
            LOG.info("loaded {} ({} {}, {} MiB of weights) in {} ms", path.getFileName(),
                    model.config().architecture().ggufName(), model.config().name(), total >> 20,
                    (System.nanoTime() - start) / 1_000_000);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static void touch(Model model, java.util.function.LongConsumer done) {
        long bytes = 0;
        for (GgufTensorInfo t : model.gguf().tensors()) {
            MemorySegment seg = model.gguf().tensorData(t);
            for (long off = 0; off < seg.byteSize(); off += CHUNK) {
                MemorySegment part = seg.asSlice(off, Math.min(CHUNK, seg.byteSize() - off));
                part.load();
                bytes += part.byteSize();
                done.accept(bytes);
            }
        }
    }
}
