package dev.gale.model.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * The Python {@code str} methods that chat templates call ({@code content.strip()}, {@code .startswith(...)},
 * {@code .split('</think>')[-1]}, ...), with Python's semantics. Jinjava would otherwise look them up as Java
 * methods, which are missing ({@code startswith}) or differ ({@code split} takes a regular expression).
 */
final class PythonStringMethods extends ELResolver {
    private static final Object NOT_A_METHOD = new Object();

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(s, name, args);
        if (result == NOT_A_METHOD) {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "strip" -> rstrip(lstrip(s, optionalString(args, 0)), optionalString(args, 0));
            case "lstrip" -> lstrip(s, optionalString(args, 0));
            case "rstrip" -> rstrip(s, optionalString(args, 0));
            case "startswith" -> matchesAny(s, args, true);
            case "endswith" -> matchesAny(s, args, false);
            case "split" -> split(s, optionalString(args, 0), maxSplit(args));
            case "rsplit" -> rsplit(s, optionalString(args, 0), maxSplit(args));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> replace(s, string(args, 0), string(args, 1), args.length > 2 ? integer(args[2]) : -1);
            case "find" -> (long) s.indexOf(string(args, 0));
            case "count" -> count(s, string(args, 0));
            case "join" -> join(s, args);
            default -> NOT_A_METHOD;
        };
    }

    private static String string(Object[] args, int i) {
        if (i >= args.length || !(args[i] instanceof String v)) {
            throw new IllegalArgumentException("expected a string as argument " + (i + 1));
        }
        return v;
    }

    private static String optionalString(Object[] args, int i) {
        return i < args.length && args[i] != null ? string(args, i) : null;
    }

    private static int integer(Object o) {
        if (o instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalArgumentException("expected an integer, got " + o);
    }

    private static int maxSplit(Object[] args) {
        return args.length > 1 ? integer(args[1]) : -1;
    }

    private static boolean isStripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    private static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && isStripped(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    private static String rstrip(String s, String chars) {
        int i = s.length();
        while (i > 0 && isStripped(s.charAt(i - 1), chars)) {
            i--;
        }
        return s.substring(0, i);
    }

    private static boolean matchesAny(String s, Object[] args, boolean start) {
        Object arg = args.length > 0 ? args[0] : null;
        Collection<?> candidates = switch (arg) {
            case Collection<?> c -> c;
            case Object[] a -> Arrays.asList(a);
            case String v -> List.of(v);
            case null, default -> throw new IllegalArgumentException(
                    (start ? "startswith" : "endswith") + " expects a string or a tuple of strings");
        };
        for (Object c : candidates) {
            String v = String.valueOf(c);
            if (start ? s.startsWith(v) : s.endsWith(v)) {
                return true;
            }
        }
        return false;
    }

    /** Python's split: on runs of whitespace (dropping empty parts) without a separator, else on the separator. */
    private static List<String> split(String s, String sep, int max) {
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                if (i == s.length()) {
                    return parts;
                }
                if (max >= 0 && parts.size() == max) {
                    parts.add(s.substring(i));
                    return parts;
                }
                int j = i;
                while (j < s.length() && !Character.isWhitespace(s.charAt(j))) {
                    j++;
                }
                parts.add(s.substring(i, j));
                i = j;
            }
        }
        requireSeparator(sep);
        int from = 0;
        int at;
        while ((max < 0 || parts.size() < max) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    /** Python's rsplit: like split, but the at most {@code max} splits are made from the right. */
    private static List<String> rsplit(String s, String sep, int max) {
        if (max < 0) {
            return split(s, sep, -1);
        }
        if (sep == null) {
            return rsplitWhitespace(s, max);
        }
        requireSeparator(sep);
        List<String> parts = new ArrayList<>();
        int end = s.length();
        int at;
        while (parts.size() < max && (at = s.lastIndexOf(sep, end - sep.length())) >= 0) {
            parts.addFirst(s.substring(at + sep.length(), end));
            end = at;
        }
        parts.addFirst(s.substring(0, end));
        return parts;
    }

    private static List<String> rsplitWhitespace(String s, int max) {
        List<String> parts = new ArrayList<>();
        int i = s.length();
        while (true) {
            while (i > 0 && Character.isWhitespace(s.charAt(i - 1))) {
                i--;
            }
            if (i == 0) {
                return parts;
            }
            if (parts.size() == max) {
                parts.addFirst(s.substring(0, i));
                return parts;
            }
            int j = i;
            while (j > 0 && !Character.isWhitespace(s.charAt(j - 1))) {
                j--;
            }
            parts.addFirst(s.substring(j, i));
            i = j;
        }
    }

    private static void requireSeparator(String sep) {
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String replace(String s, String old, String replacement, int max) {
        if (max < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        int at;
        int done = 0;
        while (done < max && (at = s.indexOf(old, from)) >= 0 && !old.isEmpty()) {
            sb.append(s, from, at).append(replacement);
            from = at + old.length();
            done++;
        }
        return sb.append(s, from, s.length()).toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String separator, Object[] args) {
        Object arg = args.length > 0 ? args[0] : null;
        Iterable<?> items = switch (arg) {
            case Iterable<?> it -> it;
            case Object[] a -> Arrays.asList(a);
            case null, default -> throw new IllegalArgumentException("join expects a list");
        };
        StringJoiner joiner = new StringJoiner(separator);
        for (Object item : items) {
            joiner.add(String.valueOf(item));
        }
        return joiner.toString();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Strings are read-only; other resolvers report the failure.
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
