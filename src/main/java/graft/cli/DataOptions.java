package graft.cli;

import graft.data.DataSource;
import graft.data.Preprocess;
import graft.data.Samples;
import graft.error.UsageException;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options of the commands that read training data (features, finetune). */
final class DataOptions {
    @Option(names = "--labels", paramLabel = "FILE.npy", description = "Labels (int64 [N]) of an .npy DATA array.")
    Path labels;

    @Option(names = "--classes", paramLabel = "IDS", description = "Use only these class ids, renumbered from 0: 5-9 or 1,3,7.")
    String classes;

    @Option(names = "--per-class", defaultValue = "0", description = "At most this many samples per class, drawn with --seed (0: all).")
    int perClass;

    @Option(names = "--size", paramLabel = "S", description = "Image side after resize and center crop (default: the model's input, else 224).")
    Integer size;

    @Option(names = "--mean", paramLabel = "M,M,M", description = "Override the model's preprocessing mean (per channel, after --scale).")
    String mean;

    @Option(names = "--std", paramLabel = "S,S,S", description = "Override the model's preprocessing std.")
    String std;

    @Option(names = "--scale", paramLabel = "F", description = "Override the pixel scale (e.g. 1/255).")
    String scale;

    @Option(names = "--bgr", description = "Feed channels as BGR (Caffe, Keras VGG) regardless of the metadata.")
    boolean bgr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of sampling, splits, shuffling and initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    /** Reads DATA shaped for the model's input, and fixes the model's symbolic input dims to it. */
    DataSource.Loaded load(Path data, Graph g) {
        Value in = g.inputs().get(0);
        TensorType t = in.type() != null ? in.type() : g.type(in.name());
        int channels = 3;
        int side = size != null ? size : 224;
        if (t != null && t.shape() != null && t.shape().rank() == 4) {
            if (t.shape().dim(1).isFixed()) {
                channels = (int) t.shape().dim(1).value();
            }
            if (size == null && t.shape().dim(2).isFixed()) {
                side = (int) t.shape().dim(2).value();
            }
        }
        Preprocess base = Preprocess.fromMetadata(g.metadata(), Preprocess.RAW_0_1);
        Preprocess pre = new Preprocess(bgr || base.bgr(), scale != null ? Preprocess.parse(scale)[0] : base.scale(),
                mean != null ? Preprocess.parse(mean) : base.mean(), std != null ? Preprocess.parse(std) : base.std());
        DataSource.Loaded l = DataSource.load(new DataSource.Request(data, labels, channels, side, pre));
        Samples tr = l.train();
        Samples va = l.val();
        if (classes != null) {
            long[] keep = DataSource.classes(classes);
            for (long k : keep) {
                if (k < 0 || k >= tr.classes().size()) {
                    throw new UsageException("--classes " + classes + ": class " + k + " is not in the data (" + tr.classes().size()
                            + " classes)");
                }
            }
            tr = tr.selectClasses(keep, perClass, seed);
            va = va == null ? null : va.selectClasses(keep, 0, seed);
        } else if (perClass > 0) {
            long[] all = new long[tr.classes().size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            tr = tr.selectClasses(all, perClass, seed);
        }
        long[] s = tr.sampleShape();
        if (t != null && t.shape() != null && t.shape().rank() == s.length + 1) {
            Dim[] dims = new Dim[s.length + 1];
            dims[0] = t.shape().dim(0).isFixed() ? Dim.sym("N") : t.shape().dim(0);
            for (int i = 0; i < s.length; i++) {
                Dim d = t.shape().dim(i + 1);
                dims[i + 1] = d.isFixed() ? d : Dim.of(s[i]);
            }
            g.inputs().set(0, new Value(in.name(), new TensorType(DataType.FLOAT, Shape.of(dims))));
        }
        return new DataSource.Loaded(tr, va);
    }
}
