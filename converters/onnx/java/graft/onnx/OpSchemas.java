package graft.onnx;

import graft.ir.DataType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The signatures of the default-domain ONNX ops at every opset graft writes ({@link OpSchemaTable},
 * generated from the onnx package's schemas). The exporter checks every node it writes against
 * the schema of its op at the target opset, so that a model it cannot express is refused by node
 * name instead of written invalid.
 */
final class OpSchemas {
    /** One formal input: its type variable (or a fixed type), optional ({@code ?}) or variadic ({@code *}). */
    record Param(String name, String type, boolean optional, boolean variadic) {
    }

    /** One version of an op. {@code types}: allowed element types per type variable (empty: not listed). */
    record Schema(String op, int since, boolean deprecated, List<Param> inputs, Set<String> attrs, Set<String> required,
                  Map<String, Set<String>> types, List<Param> outputs) {
        /** Same inputs and attribute names: a version that only widened the allowed types. */
        boolean sameSignature(Schema o) {
            return inputs.equals(o.inputs) && attrs.equals(o.attrs) && required.equals(o.required);
        }

        /** Same inputs and required attributes (optional attributes may have been added). */
        boolean sameInputs(Schema o) {
            return inputs.equals(o.inputs) && required.equals(o.required);
        }

        /** The element types allowed for input {@code i}; null when not constrained here. */
        Set<String> allowed(int i) {
            return allowed(inputs, i);
        }

        /** The element types allowed for output {@code i}; null when not constrained here. */
        Set<String> allowedOut(int i) {
            return allowed(outputs, i);
        }

        private Set<String> allowed(List<Param> params, int i) {
            if (params.isEmpty()) {
                return null;
            }
            Param p = i < params.size() ? params.get(i) : params.get(params.size() - 1);
            if (i >= params.size() && !p.variadic()) {
                return null;
            }
            Set<String> t = types.get(p.type());
            if (t != null) {
                return t.isEmpty() ? null : t;
            }
            return p.type().contains("(") ? null : Set.of(p.type());
        }

        int maxInputs() {
            return !inputs.isEmpty() && inputs.get(inputs.size() - 1).variadic() ? Integer.MAX_VALUE : inputs.size();
        }

        int minInputs() {
            int n = 0;
            for (int i = 0; i < inputs.size(); i++) {
                if (!inputs.get(i).optional() && !inputs.get(i).variadic()) {
                    n = i + 1;
                }
            }
            return n;
        }
    }

    private static final Map<String, List<Schema>> BY_OP = parse(OpSchemaTable.LINES);

    private OpSchemas() {
    }

    private static Map<String, List<Schema>> parse(String[] table) {
        Map<String, List<Schema>> m = new HashMap<>();
        for (String line : table) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\\|", -1);
            String[] head = f[0].trim().split(" ");
            List<Param> ins = params(f[1]);
            Set<String> attrs = new LinkedHashSet<>();
            Set<String> req = new LinkedHashSet<>();
            for (String a : f[2].trim().split(" ")) {
                if (a.isEmpty()) {
                    continue;
                }
                String name = a.replace("!", "");
                attrs.add(name);
                if (a.endsWith("!")) {
                    req.add(name);
                }
            }
            Map<String, Set<String>> types = new LinkedHashMap<>();
            for (String t : f[3].trim().split(";")) {
                if (t.isEmpty()) {
                    continue;
                }
                int e = t.indexOf('=');
                Set<String> allowed = new LinkedHashSet<>();
                for (String x : t.substring(e + 1).split(",")) {
                    if (!x.isEmpty()) {
                        allowed.add(x);
                    }
                }
                types.put(t.substring(0, e), allowed);
            }
            Schema s = new Schema(head[0], Integer.parseInt(head[1]), head.length > 2 && head[2].equals("deprecated"),
                    List.copyOf(ins), attrs, req, types, List.copyOf(params(f[4])));
            m.computeIfAbsent(s.op(), k -> new ArrayList<>()).add(s);
        }
        m.values().forEach(l -> l.sort(java.util.Comparator.comparingInt(Schema::since)));
        return m;
    }

    private static List<Param> params(String field) {
        List<Param> r = new ArrayList<>();
        for (String p : field.trim().split(" ")) {
            if (p.isEmpty()) {
                continue;
            }
            boolean opt = p.endsWith("?");
            boolean var = p.endsWith("*");
            String q = opt || var ? p.substring(0, p.length() - 1) : p;
            int c = q.indexOf(':');
            r.add(new Param(q.substring(0, c), q.substring(c + 1), opt, var));
        }
        return r;
    }

    /** The version of {@code op} in force at {@code opset}; null when the op does not exist yet (or is unknown). */
    static Schema at(String op, long opset) {
        List<Schema> l = BY_OP.get(op);
        Schema r = null;
        if (l != null) {
            for (Schema s : l) {
                if (s.since() <= opset) {
                    r = s;
                }
            }
        }
        return r;
    }

    /** Every version of {@code op}, oldest first; empty when unknown. */
    static List<Schema> versions(String op) {
        return BY_OP.getOrDefault(op, List.of());
    }

    /** All op names in the table. */
    static Set<String> ops() {
        return BY_OP.keySet();
    }

    /** First opset at or after {@code from} whose version of {@code op} accepts element type {@code t} at input {@code i}; -1 if none. */
    static int firstAllowing(String op, int i, String t, int from) {
        for (Schema s : versions(op)) {
            if (s.since() >= from && !s.deprecated()) {
                Set<String> a = s.allowed(i);
                if (a == null || a.contains(t)) {
                    return s.since();
                }
            }
        }
        return -1;
    }

    /** The ONNX name of an element type, as the schemas spell it ("float", "int64", ...). */
    static String typeName(DataType t) {
        return switch (t) {
            case FLOAT -> "float";
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case UINT16 -> "uint16";
            case INT16 -> "int16";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case STRING -> "string";
            case BOOL -> "bool";
            case FLOAT16 -> "float16";
            case DOUBLE -> "double";
            case UINT32 -> "uint32";
            case UINT64 -> "uint64";
            case BFLOAT16 -> "bfloat16";
        };
    }
}
