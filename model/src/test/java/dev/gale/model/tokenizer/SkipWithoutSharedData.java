package dev.gale.model.tokenizer;

import dev.gale.model.SharedTestData;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * Skips jqwik properties when the shared vocabularies are absent. (jqwik counts a JUnit assumption failure inside a
 * property as a rejected try, and fails the property once every try is rejected.)
 */
final class SkipWithoutSharedData implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        Path vocab = SharedTestData.location().resolve("models").resolve("vocab");
        return Files.isDirectory(vocab) ? SkipResult.doNotSkip()
                : SkipResult.skip("shared test data not found at " + vocab.toAbsolutePath().normalize()
                        + " (set -Dgale.shared.dir=...)");
    }
}
