package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.error.UnsupportedModelException;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.LayerTraining;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every prototxt of the corpus imports in both phases and survives ONNX export; train_val
 * nets keep their loss, accuracy, label and preprocessing as metadata; the Flickr Style
 * fine-tuning net gets CaffeNet's weights by layer name and its renamed fc8_flickr from the
 * gaussian filler (std 0.01), with lr_mult 10/20 shown by {@code graft inspect}.
 */
class CaffeImportTest {
    static final Path CORPUS = TestPaths.corpus().resolve("caffe");

    @Test
    void everyCorpusPrototxtImportsInBothPhasesAndExportsToOnnx() throws IOException {
        List<Path> nets;
        try (Stream<Path> s = Files.walk(CORPUS)) {
            nets = s.filter(p -> p.toString().endsWith(".prototxt")).sorted().toList();
        }
        assertThat(nets).hasSize(8);
        Path dir = TestPaths.scratch("caffe-import");
        CaffeFormat caffe = new CaffeFormat();
        int k = 0;
        for (Path net : nets) {
            // Deploy nets have no phase rules: TRAIN would build the same graph again.
            for (String phase : net.toString().contains("train") ? List.of("TEST", "TRAIN") : List.of("TEST")) {
                // LeNet's train/test net reads MNIST from a database graft does not have: its size is given.
                Options o = Options.none().set("phase", phase).set("data-shape", net.toString().contains("lenet_train") ? "1x28x28" : null);
                Graph g = caffe.read(net, o);
                GraphValidator.check(g);
                assertThat(g.outputs()).as(net + " " + phase).isNotEmpty();
                assertThat(g.inputs()).as(net + " " + phase).hasSize(1);
                Path out = dir.resolve(k++ + ".onnx");
                new OnnxFormat().write(g, out, Options.none());
                assertThat(new OnnxFormat().read(out, Options.none()).parameterCount()).isEqualTo(g.parameterCount());
            }
        }
    }

    @Test
    void trainValNetKeepsLossAccuracyLabelAndPreprocessingAsMetadata() {
        Graph test = new CaffeFormat().read(CORPUS.resolve("bvlc_reference_caffenet/train_val.prototxt"), Options.none());
        assertThat(test.inputs().get(0).type().shape().toString()).isEqualTo("(50, 3, 227, 227)");
        assertThat(test.outputs()).extracting(v -> v.name()).containsExactly("fc8");
        assertThat(test.metadata()).containsEntry("training.loss", "loss").containsEntry("training.accuracy", "accuracy")
                .containsEntry("training.label", "label").containsEntry("training.prediction", "fc8")
                .containsEntry("preprocess.crop_size", "227").containsEntry("preprocess.mirror", "false")
                .containsEntry("preprocess.mean_file", "data/ilsvrc12/imagenet_mean.binaryproto");
        Graph train = new CaffeFormat().read(CORPUS.resolve("bvlc_reference_caffenet/train_val.prototxt"),
                Options.none().set("phase", "TRAIN"));
        assertThat(train.inputs().get(0).type().shape().toString()).isEqualTo("(256, 3, 227, 227)");
        assertThat(train.metadata()).containsEntry("preprocess.mirror", "true").doesNotContainKey("training.accuracy");
        Graph lenet = new CaffeFormat().read(CORPUS.resolve("mnist/lenet_train_test.prototxt"), Options.none().set("data-shape", "1x28x28"));
        assertThat(lenet.inputs().get(0).type().shape().toString()).isEqualTo("(100, 1, 28, 28)");
        assertThat(lenet.metadata()).containsEntry("preprocess.scale", "0.00390625");
    }

    @Test
    void aMeanFileBesideTheNetGivesThePerChannelMeans() throws IOException {
        Path dir = TestPaths.scratch("caffe-mean-file");
        Path net = dir.resolve("train_val.prototxt");
        Files.copy(CORPUS.resolve("bvlc_reference_caffenet/train_val.prototxt"), net);
        Path mean = dir.resolve("data/ilsvrc12/imagenet_mean.binaryproto");
        Files.createDirectories(mean.getParent());
        // A 3x4x4 mean image: channel c holds the values base_c - 1.5 .. base_c + 1.5, averaging to base_c.
        var b = graft.caffe.proto.Caffe.BlobProto.newBuilder().setNum(1).setChannels(3).setHeight(4).setWidth(4);
        float[] base = {104f, 117f, 123f};
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 16; i++) {
                b.addData(base[c] - 1.5f + (i % 4));
            }
        }
        Files.write(mean, b.build().toByteArray());
        Graph g = new CaffeFormat().read(net, Options.none());
        assertThat(g.metadata()).containsEntry("preprocess.mean_value", "104,117,123")
                .containsEntry("preprocess.mean_file", "data/ilsvrc12/imagenet_mean.binaryproto");
    }

    @Test
    void aDataLayerOfUnknownSizeIsRefusedWithTheOptionThatFixesIt() {
        assertThatThrownBy(() -> new CaffeFormat().read(CORPUS.resolve("mnist/lenet_train_test.prototxt"), Options.none()))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("conv1").hasMessageContaining("data-shape");
    }

    @Test
    void flickrStyleGetsCaffeNetWeightsByNameAndFc8FlickrFromItsGaussianFiller() {
        Path dir = TestPaths.scratch("caffe-flickr");
        CaffeFormat caffe = new CaffeFormat();
        // A CaffeNet caffemodel as graft writes it; its fc8 has no counterpart in the Flickr net.
        Graph caffenet = caffe.read(CORPUS.resolve("bvlc_reference_caffenet/deploy.prototxt"), Options.none());
        Path weights = dir.resolve("caffenet.caffemodel");
        caffe.write(caffenet, weights, Options.none());
        Path net = CORPUS.resolve("finetune_flickr_style/train_val.prototxt");
        Graph g = caffe.read(net, Options.none().set("weights", weights));
        assertThat(g.metadata()).containsEntry("caffe.filled_from_fillers", "fc8_flickr");
        float[] w = g.initializer("fc8_flickr/weight").toFloats();
        assertThat(w).hasSize(20 * 4096);
        double mean = 0;
        double sq = 0;
        for (float v : w) {
            mean += v;
            sq += (double) v * v;
        }
        mean /= w.length;
        double std = Math.sqrt(sq / w.length - mean * mean);
        // 81,920 draws: the sample std of N(0, 0.01) lies within 1% of 0.01 with overwhelming probability.
        assertThat(std).isBetween(0.0099, 0.0101);
        assertThat(Math.abs(mean)).isLessThan(2e-4);
        assertThat(g.initializer("fc8_flickr/bias").toFloats()).containsOnly(0f);
        // Copied from the caffemodel (graft wrote CaffeNet's deploy weights, all zero), not filled.
        Weight conv1 = g.initializer("conv1/weight");
        assertThat(conv1.toFloats()).containsOnly(0f);
        assertThat(g.training().get("fc8_flickr")).isEqualTo(new LayerTraining(true, List.of(10f, 20f), List.of(1f, 0f)));
        // Deterministic: the same net gives the same filler values.
        assertThat(caffe.read(net, Options.none().set("weights", weights)).initializer("fc8_flickr/weight").toFloats()).isEqualTo(w);

        Cli.Result r = Cli.run("inspect", net.toString(), "--weights", weights.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().filter(l -> l.contains("fc8_flickr"))).anyMatch(l -> l.contains("81,940") && l.contains("lr_mult 10/20"));
        assertThat(r.out()).contains("crop_size=227");
    }
}
