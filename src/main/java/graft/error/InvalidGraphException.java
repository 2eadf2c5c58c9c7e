package graft.error;

import java.util.List;

/** A graph that breaks an IR invariant (dangling input, duplicate output, bad arity or attribute). */
public class InvalidGraphException extends GraftException {
    private final List<String> problems;

    public InvalidGraphException(String graph, List<String> problems) {
        super("graph '" + graph + "' is invalid: " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    @Override
    public int exitCode() {
        return ExitCodes.BAD_INPUT;
    }
}
