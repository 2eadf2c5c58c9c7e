package graft.cli;

import graft.ir.Graph;
import graft.validate.DiffReport;
import graft.validate.GraphDiff;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "diff", mixinStandardHelpOptions = true,
        description = {"Structural and weight differences between two models of any formats: input shapes changed, layers "
                + "added (with output shapes), removed, renamed (matched by equal weights, or by the same ops in the same place), changed ops and attributes, changed weights (max abs difference, norms), "
                + "trainability and lr/decay multiplier changes. Exit 0 either way (a difference is not an error)."},
        footer = {"", "Examples:", "  graft diff vgg16.onnx vgg16_edited.onnx", "  graft diff vgg16.h5 vgg16.onnx --json",
                "  graft diff vgg16.onnx vgg16_finetune.onnx --html surgery.html   (what the recipe did, as a picture)"})
final class DiffCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL_A", description = "The model before.")
    Path modelA;

    @Parameters(index = "1", paramLabel = "MODEL_B", description = "The model after.")
    Path modelB;

    @Mixin
    InputOptions input = new InputOptions();

    @Mixin
    SecondModelOptions second = new SecondModelOptions();

    @Option(names = "--json", description = "Print the differences as JSON.")
    boolean json;

    @Option(names = "--svg", paramLabel = "FILE", description = "Also draw the union graph as SVG: removed layers red and struck out, "
            + "added green, changed (ops, attributes, weights, shape) amber, renamed purple with both names, "
            + "trainability or lr/decay changes with a thick outline.")
    Path svg;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write the union graph as one self-contained HTML page "
            + "(pan/zoom, a click on a layer shows its row and its diff lines).")
    Path html;

    @Option(names = "--force", description = "Replace an existing --svg/--html file.")
    boolean force;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        graft.picture.Pictures.checkTargets(svg, html, force, java.util.List.of(modelA, modelB));
        Graph a = ModelLoader.load(modelA, input.from, input.toOptions());
        Graph b = second.load(modelB, input);
        GraphDiff.Result r = GraphDiff.of(a, b);
        String na = modelA.getFileName().toString();
        String nb = modelB.getFileName().toString();
        if (svg != null || html != null) {
            graft.picture.GraphLayout.Result pic = graft.picture.Pictures.diff(a, b, r);
            String title = "graft diff " + na + " " + nb;
            graft.picture.Pictures.write(pic, title, true, svg, html, force, java.util.List.of(modelA, modelB));
        }
        out.print(json ? DiffReport.json(na, nb, r) : DiffReport.table(na, nb, r));
        out.flush();
        return 0;
    }
}
