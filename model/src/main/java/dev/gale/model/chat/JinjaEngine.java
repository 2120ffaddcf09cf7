package dev.gale.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Pattern;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * Renders Jinja chat templates the way Hugging Face's {@code apply_chat_template} does: {@code trim_blocks} and
 * {@code lstrip_blocks} on, one trailing newline of the source dropped, undefined names empty, plus the helpers
 * chat templates call ({@code raise_exception}, {@code strftime_now}) and the Python string methods they use
 * ({@link PythonStringMethods}). Jinjava is switched to Jinja's semantics where it has a choice (whitespace
 * control on expressions and comments, filters binding tighter than arithmetic, ...); where it has none the source
 * is adapted before parsing. Templates cannot include other files. Thread-safe.
 */
final class JinjaEngine {
    /** Rendered prompts larger than this are refused (a runaway template, not a conversation). */
    private static final long MAX_OUTPUT_CHARS = 64L << 20;
    /** Python's reversed slice, which Jinjava's parser lacks; Qwen3's template iterates {@code messages[::-1]}. */
    private static final Pattern REVERSED_SLICE = Pattern.compile("\\[\\s*:\\s*:\\s*-1\\s*]");
    /**
     * Jinja's lstrip_blocks: spaces and tabs from a line's start up to a block or comment tag. (Jinjava's own option
     * also strips them after text on the same line, which Jinja keeps: {@code [INST] {% if ... %}}.)
     */
    private static final Pattern LINE_INDENT_BEFORE_TAG = Pattern.compile("(?m)^[ \\t]+(?=\\{%(?!\\+)|\\{#)");
    private static final LegacyOverrides JINJA_SEMANTICS = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build();

    private final Jinjava jinjava;

    JinjaEngine(Clock clock) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLegacyOverrides(JINJA_SEMANTICS)
                .withElResolver(resolver)
                .withTimeZone(clock.getZone())
                .withDateTimeProvider(clock::millis)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .build();
        jinjava = new JinjaSyntaxJinjava(config);
        jinjava.setResourceLocator((name, charset, interpreter) -> {
            throw new ResourceNotFoundException("chat templates cannot include other templates ('" + name + "')");
        });
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateFunctions.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                TemplateFunctions.class, "strftimeNow", String.class));
    }

    /** Renders {@code source} with {@code variables}; every failure becomes a {@link ChatTemplateException}. */
    String render(String source, Map<String, ?> variables) {
        RenderResult result;
        try {
            result = jinjava.renderForResult(prepare(source), variables);
        } catch (RuntimeException e) {
            throw failure(e.getMessage(), -1, e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw failure(error.getMessage(), error.getLineno(), error.getException());
            }
        }
        return result.getOutput();
    }

    private static String prepare(String source) {
        String s = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        s = LINE_INDENT_BEFORE_TAG.matcher(s).replaceAll("");
        return REVERSED_SLICE.matcher(s).replaceAll("|reverse");
    }

    /** Jinjava parsing expressions with {@link JinjaSyntax}. */
    private static final class JinjaSyntaxJinjava extends Jinjava {
        private static final int PARSED_EXPRESSIONS_CACHED = 1000;
        private final ExpressionFactory expressions = new ExpressionFactoryImpl(
                new TreeStore(new JinjaSyntax(), new Cache(PARSED_EXPRESSIONS_CACHED)), new TruthyTypeConverter());

        JinjaSyntaxJinjava(JinjavaConfig config) {
            super(config);
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    private static ChatTemplateException failure(String message, int line, Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TemplateFunctions.RaisedException raised) {
                return new ChatTemplateException("the chat template rejected the conversation: " + raised.getMessage());
            }
        }
        String where = line > 0 ? " (line " + line + ")" : "";
        return new ChatTemplateException("chat template error" + where + ": " + message, cause);
    }
}
