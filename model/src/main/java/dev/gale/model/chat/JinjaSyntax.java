package dev.gale.model.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.javax.el.ELException;

/**
 * Jinjava's expression syntax with Jinja's keyword arguments: the value after {@code name=} is a whole expression.
 * Jinjava parses {@code =} like {@code +}, so Qwen3's {@code namespace(last_query_index=messages|length - 1)} would
 * subtract 1 from the named argument itself.
 */
final class JinjaSyntax extends ExtendedSyntaxBuilder {
    private static final long serialVersionUID = 1L;

    private static final Parser.ExtensionHandler KEYWORD_ARGUMENT = new Parser.ExtensionHandler(Parser.ExtensionPoint.OR) {
        @Override
        public AstNode createAstNode(AstNode... children) {
            if (!(children[0] instanceof AstIdentifier name)) {
                throw new ELException("expected a name before '=', found " + children[0]);
            }
            return new AstNamedParameter(name, children[1]);
        }
    };

    JinjaSyntax() {
        super(Feature.METHOD_INVOCATIONS, Feature.VARARGS);
    }

    @Override
    protected Parser createParser(String expression) {
        return new KeywordArgumentParser(this, expression);
    }

    private static final class KeywordArgumentParser extends ExtendedParser {
        KeywordArgumentParser(Builder context, String input) {
            super(context, input);
            putExtensionHandler(NamedParameterOperator.TOKEN, KEYWORD_ARGUMENT);
        }
    }
}
