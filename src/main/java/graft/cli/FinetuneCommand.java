package graft.cli;

import graft.data.DataSource;
import graft.data.Samples;
import graft.error.UsageException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.runtime.Device;
import graft.train.Loss;
import graft.train.Optimizer;
import graft.train.Schedule;
import graft.train.Trainer;
import graft.train.TrainingStep;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune a model on labelled data with ONNX Runtime (one ONNX graph per training step).",
        footer = {"", "Examples:",
                "  graft finetune vgg16.h5 images/ -o run/ --freeze-upto block5_pool --epochs 10 --optimizer sgd --lr 1e-4 --momentum 0.9",
                "  graft finetune source.onnx /usr/share/datasets/fashion-mnist --classes 5-9 --per-class 100 -o run/ --reinit fc2",
                "  graft finetune model.onnx images/ -o run/ --resume",
                "  graft finetune source.onnx images/ -o run/ --freeze-upto block2 --spark --master spark://host:7077 --partitions 8",
                "  graft finetune vgg16.onnx images/ -o run/ --recipe recipes/vgg16_finetune.yaml --optimizer sgd --nesterov",
                "", "OUT gets model.onnx (--save-as), history.csv/json/png and checkpoint/ (one per epoch, for --resume).",
                "Optimizers follow torch.optim's formulas; --decay is Keras's lr / (1 + decay * step).",
                "With --spark (a frozen prefix, the head trained): the bottleneck is computed and kept on Spark's executors, each step's",
                "gradient is summed over the partitions and the optimizer applied once here: the same steps as one machine."})
final class FinetuneCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model file in any format graft reads.")
    Path model;

    @Parameters(index = "1", paramLabel = "DATA", description = "Image folder (one subfolder per class, or train/ and val/), IDX folder, or .npy.")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Run folder.")
    Path out;

    @Option(names = "--save-as", defaultValue = "model.onnx", description = "Name of the trained model in OUT; the extension picks the format (default: ${DEFAULT-VALUE}).")
    String saveAs;

    @Option(names = "--epochs", defaultValue = "10", description = "Passes over the training data (default: ${DEFAULT-VALUE}).") int epochs;
    @Option(names = "--batch-size", defaultValue = "32", description = "Samples per training step (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd, rmsprop or adam (default: ${DEFAULT-VALUE}).") String optimizer;
    @Option(names = "--lr", defaultValue = "0.01", description = "Learning rate (default: ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--momentum", defaultValue = "0", description = "SGD momentum, torch.optim's form (default: ${DEFAULT-VALUE}).") double momentum;
    @Option(names = "--nesterov") boolean nesterov;
    @Option(names = "--decay", defaultValue = "0", description = "Keras learning-rate decay per step (default: ${DEFAULT-VALUE}).") double decay;
    @Option(names = "--schedule", defaultValue = "fixed", description = "fixed, step:GAMMA:STEPSIZE, exp:GAMMA, cosine:TOTAL[:MIN] (default: ${DEFAULT-VALUE}).") String schedule;
    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 weight decay added to the gradient, scaled by each layer's decay_mult (default: ${DEFAULT-VALUE}).") double weightDecay;
    @Option(names = "--rho", defaultValue = "0.9", description = "RMSprop decay of the squared average (default: ${DEFAULT-VALUE}).") double rho;
    @Option(names = "--eps", defaultValue = "1e-7", description = "RMSprop/Adam epsilon (default: ${DEFAULT-VALUE}, Keras's; PyTorch's default is 1e-8: pass --eps 1e-8 to match torch.optim).") double eps;
    @Option(names = "--loss", description = "softmax or sigmoid cross-entropy (default: sigmoid, i.e. binary cross-entropy scored at 0.5, "
            + "for a one-output head on 2 classes; softmax otherwise).") String loss;
    @Option(names = "--freeze-upto", paramLabel = "LAYER", description = "Freeze every layer up to and including LAYER.") String freezeUpto;
    @Option(names = "--recipe", paramLabel = "R.yaml",
            description = "Apply a surgery recipe (new head, freezing, multipliers) to MODEL before training.")
    Path recipe;

    @Option(names = "--reinit", paramLabel = "LAYER", arity = "1..*", description = "Re-initialise these layers as the reinit edit does: He normal before a Relu, else Glorot uniform; biases 0; seeded by --seed.") List<String> reinit = new ArrayList<>();
    @Option(names = "--val", paramLabel = "DATA", description = "Validation data (else the source's own split, else --val-fraction).") Path val;
    @Option(names = "--val-labels", paramLabel = "FILE.npy", description = "Labels (int64 [N]) of an .npy --val array (required with one).")
    Path valLabels;
    @Option(names = "--val-fraction", defaultValue = "0.1", description = "Share of each class held out for validation when DATA has no val/ split and no --val is given; 0: no validation (default: ${DEFAULT-VALUE}).") double valFraction;
    @Option(names = "--patience", defaultValue = "0", description = "Stop after this many epochs without a better validation loss (0: never).") int patience;
    @Option(names = "--mirror", description = "Random horizontal mirroring (turns bottleneck caching off); with --crop, Caffe's "
            + "crop_size + mirror.") boolean mirror;
    @Option(names = "--no-dropout", description = "Run Dropout as identity while training.") boolean noDropout;
    @Option(names = "--no-cache", description = "Never cache the bottleneck.") boolean noCache;
    @Option(names = "--bn", defaultValue = "frozen", paramLabel = "frozen|train", description = "BatchNormalization while training: "
            + "frozen (inference statistics, Keras's fine-tuning advice) or train (batch statistics, running mean and variance updated "
            + "with each layer's momentum, PyTorch's train mode; a frozen layer's stay inference) (default: ${DEFAULT-VALUE}).") String bn;
    @Option(names = "--resume", description = "Continue from OUT/checkpoint.") boolean resume;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE}).") String device;
    @Option(names = "--force", description = "Use OUT even if it holds files.") boolean force;
    @Option(names = "--solver", paramLabel = "solver.prototxt", description = "Take optimizer, lr, schedule, momentum, weight decay and max_iter from a Caffe solver file.") Path solver;

    @Mixin
    InputOptions input = new InputOptions();

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Mixin
    SparkOptions sparkOptions = new SparkOptions();

    @Option(names = "--quiet", description = "No progress bar for the steps of each epoch (the per-epoch lines stay).")
    boolean quiet;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter log = spec.commandLine().getOut();
        if (Files.exists(out) && !resume && !force && Files.list(out).findAny().isPresent()) {
            throw new UsageException("output '" + out + "' exists and is not empty. Pass --resume to continue or --force");
        }
        Device dev = Device.parse(device);
        if (!sparkOptions.on && sparkOptions.clusterOptionsGiven()) {
            throw new UsageException("--master and --partitions: add --spark");
        }
        if (sparkOptions.on && dev != Device.CPU) {
            throw new UsageException("--device " + device + ": not with --spark (executors run ONNX Runtime on CPU)");
        }
        Optimizer opt = switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "sgd" -> Optimizer.sgd(momentum, nesterov, weightDecay);
            case "rmsprop" -> Optimizer.rmsprop(rho, eps, weightDecay);
            case "adam" -> Optimizer.adam(0.9, 0.999, eps, weightDecay);
            default -> throw new UsageException("--optimizer '" + optimizer + "': use sgd, rmsprop or adam");
        };
        Loss l = loss == null ? null : switch (loss) {
            case "softmax" -> Loss.SOFTMAX_CROSS_ENTROPY;
            case "sigmoid" -> Loss.SIGMOID_CROSS_ENTROPY;
            default -> throw new UsageException("--loss '" + loss + "': use softmax or sigmoid");
        };
        TrainingStep.BatchNormMode bnMode = switch (bn) {
            case "frozen" -> TrainingStep.BatchNormMode.FROZEN;
            case "train" -> TrainingStep.BatchNormMode.TRAIN;
            default -> throw new UsageException("--bn '" + bn + "': use frozen or train");
        };
        Schedule sched = decay != 0 ? Schedule.keras(lr, decay) : Schedule.parse(schedule, lr);
        graft.train.Solver sv = solver == null ? null : graft.train.Solver.read(solver);
        if (sv != null) {
            opt = sv.optimizer();
            sched = sv.schedule();
            lr = sv.baseLr();
            optimizer = sv.fields().getOrDefault("type", "SGD");
        }
        Graph g = ModelLoader.load(model, input.from, input.toOptions());
        if (recipe != null) {
            // checked whole before any edit runs; a mistake is exit 2 before any data is read
            g = graft.surgery.Recipe.read(recipe).apply(g);
            spec.commandLine().getOut().println("applied recipe " + recipe.getFileName() + ": " + graft.ir.LayerTable.totals(g).layers() + " layers");
        }
        if (val != null && val.toString().endsWith(".npy") && valLabels == null) {
            throw new UsageException("--val '" + val + "': a validation array needs its own labels. Pass --val-labels labels.npy");
        }
        if (valLabels != null && (val == null || !val.toString().endsWith(".npy"))) {
            throw new UsageException("--val-labels '" + valLabels + "': labels an .npy --val array only. Pass --val X.npy or drop it");
        }
        // the data loader relaxes the input for training (a fixed batch becomes N, symbolic H and W
        // take the data's size); the saved model keeps the input the source declared
        List<graft.ir.Value> declared = List.copyOf(g.inputs());
        // with --spark an image folder is only listed here: the executors decode their own blocks
        DataSource.Loaded d = dataOptions.load(data, dataOptions.labels, g, true, sparkOptions.on);
        String meanWarning = dataOptions.meanFileWarning(g);
        if (meanWarning != null) {
            spec.commandLine().getErr().println(meanWarning);
        }
        Samples train = d.train();
        Samples v = null;
        if (val != null) {
            DataSource.Loaded dv = dataOptions.load(val, valLabels, g, false, sparkOptions.on);
            v = dv.train();
        } else if (d.val() != null) {
            v = d.val();
        } else if (valFraction > 0) {
            Samples[] s = train.split(valFraction, dataOptions.seed);
            train = s[0];
            v = s[1];
        }
        if (sv != null && sv.maxIter() > 0) {
            epochs = (int) Math.max(1, (sv.maxIter() * batch + train.size() - 1) / train.size());
        }
        // the surgery edits, with their precondition checks and provenance lines (as a recipe would write them)
        if (freezeUpto != null) {
            freezeUpto = graft.surgery.LayerRef.resolve(g, "--freeze-upto", freezeUpto);
            new graft.surgery.Freeze(new graft.surgery.LayerRange(".." + freezeUpto)).apply(g);
        }
        for (String r : reinit) {
            graft.surgery.Reinit.forLayer(g, r, dataOptions.seed).apply(g);
        }
        if (l == null) {
            l = Trainer.lossFor(g);
        }
        log.printf(Locale.ROOT, "training on %d samples of %d classes, validating on %d; %s lr %g, batch %d, %d epochs%n",
                train.size(), train.classes().size(), v == null ? 0 : v.size(), optimizer, lr, batch, epochs);
        if (l == Loss.SIGMOID_CROSS_ENTROPY) {
            log.println("loss: sigmoid cross-entropy" + (loss == null ? " (one-output head: binary, scored at 0.5)" : ""));
        }
        boolean created = !Files.exists(out);
        Files.createDirectories(out);
        Trainer.Config c = new Trainer.Config(epochs, batch, opt, sched, l, !noDropout, mirror, dataOptions.seed, patience, out,
                resume, dev, !noCache, dataOptions.crop(g), bnMode);
        Trainer.Result r;
        graft.train.DataParallel.Workers workers = null;
        try {
            if (sparkOptions.on) {
                // data-parallel over a bottleneck cached on Spark's executors; the optimizer runs here
                workers = graft.cluster.Cluster.find().workers(sparkOptions.settings(spec));
            }
            r = Trainer.fit(g, train, v, c, log, stepBars(log), workers);
        } catch (RuntimeException | Error e) {
            // refused before anything was written (every layer frozen, an op without a gradient...):
            // the run folder graft made is removed; a completed epoch's checkpoint and history stay
            if (created) {
                removeIfNoFiles(out);
            }
            throw e;
        } finally {
            if (workers != null) {
                workers.close();
            }
        }
        Path target = out.resolve(saveAs);
        ModelFormat f = Formats.forFile(target, null);
        Graph trained = r.model();
        if (!trained.inputs().equals(declared) && trained.inputs().size() == declared.size()) {
            List<graft.ir.Value> relaxed = List.copyOf(trained.inputs());
            trained.inputs().clear();
            trained.inputs().addAll(declared);
            try {
                graft.ir.ShapeInference.run(trained);
            } catch (graft.error.InvalidGraphException e) {
                // the layers no longer take the declared input (e.g. a Dense after symbolic H, W): keep the trained one
                trained.inputs().clear();
                trained.inputs().addAll(relaxed);
                graft.ir.ShapeInference.run(trained);
            }
        }
        // the saved model says how its inputs were made, so run/validate --images feed what training fed
        dataOptions.preprocessing(g).writeTo(trained.metadata());
        trained.addProvenance("finetune " + r.history().rows().size() + " epochs, " + optimizer + " lr " + lr);
        f.write(trained, target, Options.none().set("force", true).set("inputs", List.of(model)));
        log.printf(Locale.ROOT, "trained model -> %s; history -> %s%n", target, out.resolve("history.csv"));
        return 0;
    }

    /** Deletes {@code dir} when it holds folders only (no file anywhere below it). */
    static void removeIfNoFiles(Path dir) {
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            List<Path> all = s.sorted(java.util.Comparator.reverseOrder()).toList();
            if (all.stream().allMatch(Files::isDirectory)) {
                for (Path p : all) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            // best effort: the refusal itself is what the user must see
        }
    }

    /** One progress bar per epoch over its training steps, closed at the epoch's last step (before the epoch's line). */
    private Trainer.Steps stepBars(PrintWriter log) {
        if (quiet) {
            return null;
        }
        return new Trainer.Steps() {
            private Progress bar;

            @Override
            public void done(int epoch, int step, int perEpoch) {
                if (bar == null) {
                    bar = Progress.start(log, System.out, false, "epoch " + epoch + "/" + epochs + " steps", perEpoch, "steps");
                }
                bar.stepTo(step);
                if (step == perEpoch) {
                    bar.close();
                    bar = null;
                }
            }
        };
    }
}
