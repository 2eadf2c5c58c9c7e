package graft.cli;

import graft.error.UsageException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.surgery.EditParser;
import graft.surgery.LayerDiff;
import graft.surgery.Recipe;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "surgery", mixinStandardHelpOptions = true,
        description = {"Edit a model: run a recipe (YAML) or single edits, then write the result.",
                "The whole recipe is checked and applied in memory first; nothing is written unless every edit succeeds."},
        footer = {"", "Examples:",
                "  graft surgery vgg16.onnx --recipe recipes/vgg16_finetune.yaml -o ft.onnx",
                "  graft surgery vgg16.onnx --edit \"pop 3\" \\",
                "      --edit \"attach-head dense 256 relu, dense 5 softmax\" -o out.onnx",
                "  graft surgery caffenet.onnx --recipe recipes/caffenet_flickr_style.yaml \\",
                "      --dry-run",
                "", "Edits (LAYER: a name or a number, as 'graft inspect' shows them):",
                "  pop N | cut-after LAYER | cut-before LAYER | remove LAYER",
                "  insert-after LAYER SPEC | replace LAYER SPEC",
                "  attach-head SPEC, SPEC, ...  (e.g. flatten, dense 256 relu, dense 1 sigmoid)",
                "  set-classes K | rename LAYER NEW [--keep-weights]",
                "  reinit LAYER --init he|glorot|gaussian:STD|zeros [--seed S]",
                "  set-input-shape HxWxC | set-input-shape N,C,H,W",
                "  replace-conv-pair A B --kernel 5 --init random|compose|fit",
                "      [--calibration DIR|N]",
                "  freeze RANGE | unfreeze RANGE | lr-mult LAYER W B | decay-mult LAYER W B",
                "  fold-batchnorm",
                "SPEC: dense N [ACT] | conv F K [ACT] [stride=S] [pad=same|valid]",
                "  | maxpool K | avgpool K | flatten | global-avg | global-max | dropout R",
                "  | relu | sigmoid | softmax | tanh; each may end in name=NAME",
                "RANGE: :15 | 3:10 | -4: | ..block4_pool | ..9 | block5_conv1.. | a..b | block5_*",
                "  | all; or a comma-separated list of these",
                "", "Exit codes: 0 written (or dry run shown), 2 bad recipe or edit (line and",
                "reason named; nothing written), 3 bad or unsupported model."})
final class SurgeryCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Input model.")
    Path in;

    @Mixin
    InputOptions input = new InputOptions();

    @Option(names = "--recipe", paramLabel = "R.yaml", description = "Recipe file: edits in order plus input/output/convert options.")
    Path recipe;

    @Option(names = "--edit", paramLabel = "EDIT", description = "One edit, e.g. \"pop 3\"; repeatable; runs after the recipe's edits.")
    List<String> edits = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Output model (format from the extension; --to overrides).")
    Path out;

    @Option(names = "--to", paramLabel = "FORMAT", description = "Output format when the extension does not tell.")
    String to;

    @Option(names = "--dry-run", description = "Print the layer table before and after, with the differences marked; write nothing.")
    boolean dryRun;

    @Option(names = "--svg", paramLabel = "FILE", description = "Also draw what the edits do as SVG: the union of the layer graphs "
            + "before and after, coloured as graft diff reports each layer (with --dry-run too: the picture is the only file written).")
    Path svg;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write that picture as one self-contained HTML page (pan/zoom, click a layer).")
    Path html;

    @Option(names = "--opset", description = "ONNX opset to write (default: the recipe's, else 17).")
    Integer opset;

    @Option(names = "--external-data", paramLabel = "WHEN", description = "ONNX weights in OUT.data: auto, always, never (default: the recipe's, else auto).")
    String externalData;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Recipe r = recipe == null ? null : Recipe.read(recipe);
        Recipe extra = edits.isEmpty() ? null : Recipe.ofEdits(edits);
        if (r == null && extra == null) {
            throw new UsageException("surgery needs --recipe or at least one --edit; edits: " + String.join(", ", EditParser.USAGE.keySet()));
        }
        Path target = out;
        if (target == null && r != null && r.output().containsKey("file")) {
            target = Path.of(r.output().get("file"));
        }
        if (target == null && !dryRun) {
            throw new UsageException("surgery needs -o OUT (or --dry-run)");
        }
        String toFormat = to != null ? to : r == null ? null : r.output().get("to");
        ModelFormat format = target == null ? null : Formats.forFile(target, toFormat);
        List<Path> inputs = new ArrayList<>(List.of(in));
        Options readOpts = input.toOptions();
        if (input.weights == null && r != null && r.input().containsKey("weights")) {
            Path w = recipe.toAbsolutePath().getParent().resolve(r.input().get("weights"));
            readOpts.set("weights", w);
            inputs.add(w);
        }
        if (input.weights != null) {
            inputs.add(input.weights);
        }
        if (!dryRun) {
            graft.io.AtomicOutput.checkTarget(target, force, inputs);
        }
        graft.picture.Pictures.checkTargets(svg, html, force, inputs);
        String from = input.from != null ? input.from : r == null ? null : r.input().get("from");
        Graph before = ModelLoader.load(in, from, readOpts);
        Graph after = r == null ? before : r.apply(before);
        if (extra != null) {
            after = extra.apply(after);
        }
        PrintWriter o = spec.commandLine().getOut();
        if (svg != null || html != null) {
            graft.picture.GraphLayout.Result pic = graft.picture.Pictures.diff(before, after, graft.validate.GraphDiff.of(before, after));
            String title = "graft surgery " + in.getFileName() + (recipe != null ? " --recipe " + recipe.getFileName() : "");
            graft.picture.Pictures.write(pic, title, true, svg, html, force, inputs);
        }
        if (dryRun) {
            o.print(LayerDiff.of(before, after));
            o.println(svg == null && html == null ? "dry run: nothing written" : "dry run: no model written, only the picture");
            o.flush();
            return 0;
        }
        int op = opset != null ? opset : r != null && r.convert().containsKey("opset") ? Integer.parseInt(r.convert().get("opset")) : 17;
        String ext = externalData != null ? externalData : r == null ? "auto" : r.convert().getOrDefault("external-data", "auto");
        format.write(after, target, Options.none().set("opset", op).set("external-data", ext).set("force", force).set("inputs", inputs));
        int steps = (r == null ? 0 : r.steps().size()) + (extra == null ? 0 : extra.steps().size());
        graft.ir.LayerTable.Totals t = graft.ir.LayerTable.totals(after);
        o.printf("wrote %s (%s, %d edits, %d layers, %,d parameters)%n", target, format.name(), steps, t.layers(), t.params());
        o.flush();
        return 0;
    }
}
