package graft.picture;

import graft.io.AtomicOutput;
import graft.ir.Graph;
import graft.validate.GraphDiff;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The library entry points behind {@code graft inspect --svg/--html} and {@code graft diff --svg/--html}:
 * lay out, draw, and write through a temporary file renamed when complete (never a partial picture).
 */
public final class Pictures {
    private Pictures() {
    }

    public static GraphLayout.Result model(Graph g) {
        return GraphLayout.layout(LayerGraph.of(g));
    }

    public static GraphLayout.Result diff(Graph a, Graph b, GraphDiff.Result d) {
        return GraphLayout.layout(DiffGraph.of(a, b, d));
    }

    public static void writeSvg(GraphLayout.Result r, String title, Path out, boolean force, List<Path> inputs) {
        write(out, Svg.document(r, title), force, inputs);
    }

    public static void writeHtml(GraphLayout.Result r, String title, boolean diff, Path out, boolean force, List<Path> inputs) {
        write(out, Html.page(r, title, Html.legend(diff)), force, inputs);
    }

    /**
     * Refuses, before any work, an {@code --svg}/{@code --html} target that exists (without {@code force}) or is one of
     * the {@code inputs}: the same checks the write makes, so a command does not load and lay out a model to refuse at the end.
     */
    public static void checkTargets(Path svg, Path html, boolean force, List<Path> inputs) {
        for (Path p : new Path[] {svg, html}) {
            if (p != null) {
                AtomicOutput.checkTarget(p, force, inputs);
            }
        }
    }

    /** The picture as SVG to {@code svg} and as an HTML page to {@code html}, each when its path is not null. */
    public static void write(GraphLayout.Result r, String title, boolean diff, Path svg, Path html, boolean force, List<Path> inputs) {
        if (svg != null) {
            writeSvg(r, title, svg, force, inputs);
        }
        if (html != null) {
            writeHtml(r, title, diff, html, force, inputs);
        }
    }

    static void write(Path file, String text, boolean force, List<Path> inputs) {
        try (AtomicOutput o = AtomicOutput.open(file, force, inputs)) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                o.channel().write(b);
            }
            o.commit();
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + file + "': cannot be written (" + AtomicOutput.why(e) + ")", e);
        }
    }
}
