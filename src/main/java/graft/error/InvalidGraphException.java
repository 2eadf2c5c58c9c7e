package graft.error;

import java.util.ArrayList;
import java.util.List;

/** A graph that breaks an IR invariant (dangling input, duplicate output, bad arity or attribute). */
public class InvalidGraphException extends GraftException {
    /** One problem: the node it is about (its name; null when it concerns the graph) and what is wrong, for people. */
    public record Problem(String node, String message) {
    }

    private final List<Problem> problems;

    /** Problems that name no node. */
    public InvalidGraphException(String graph, List<String> problems) {
        this(problems.stream().map(m -> new Problem(null, m)).toList(), graph);
    }

    private InvalidGraphException(List<Problem> problems, String graph) {
        super("graph '" + graph + "' is invalid: " + String.join("; ", messages(problems.subList(0, Math.min(5, problems.size()))))
                + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
        this.problems = List.copyOf(problems);
    }

    /** Problems each naming its node (or null). */
    public static InvalidGraphException of(String graph, List<Problem> problems) {
        return new InvalidGraphException(problems, graph);
    }

    private static List<String> messages(List<Problem> ps) {
        List<String> m = new ArrayList<>();
        for (Problem p : ps) {
            m.add(p.message());
        }
        return m;
    }

    /** The messages, in order. */
    public List<String> problems() {
        return messages(problems);
    }

    /** The problems with the node each is about. */
    public List<Problem> structured() {
        return problems;
    }

    @Override
    public int exitCode() {
        return ExitCodes.BAD_INPUT;
    }
}
