package dev.gale.runtime.cli;

import dev.gale.model.gguf.GgufFile;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.model.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gale tokenize}: print the token ids of a text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text.")
final class TokenizeCommand implements Callable<Integer>, CommonOptions.Holder {
    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model (or vocabulary-only) file.")
    Path model;

    @Option(names = "--text", required = true, description = "Text to tokenize.")
    String text;

    @Option(names = "--pieces", description = "Print each id with its piece.")
    boolean pieces;

    @Option(names = "--no-bos", description = "Do not add BOS.")
    boolean noBos;

    @Option(names = "--parse-special", description = "Recognise special-token texts such as <|eot_id|>.")
    boolean parseSpecial;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        try (GgufFile gguf = GgufFile.open(model)) {
            Tokenizer tok = Tokenizers.fromGguf(gguf.metadata());
            int[] ids = tok.encode(text, !noBos, parseSpecial);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < ids.length; i++) {
                if (pieces) {
                    sb.append(ids[i]).append('\t').append(tok.piece(ids[i])).append('\n');
                } else {
                    sb.append(i == 0 ? "" : " ").append(ids[i]);
                }
            }
            System.out.println(pieces ? sb.toString().stripTrailing() : sb.toString());
        }
        return 0;
    }
}
