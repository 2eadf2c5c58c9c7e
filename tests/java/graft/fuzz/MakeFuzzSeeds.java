package graft.fuzz;

import graft.io.Options;
import graft.ir.Graph;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes the seeds that no fixture holds as such, with graft's own writers (run once; the
 * output is committed under fixtures/fuzz/): ONNX models with external data packed as the
 * onnx-external target reads them, Keras 3 .keras zips (stored and deflated), a graft-written
 * Keras .h5, a graft-written caffemodel and prototxt, and small .npy arrays.
 * {@code java -cp ... graft.fuzz.MakeFuzzSeeds ROOT} (ROOT: the repository).
 */
public final class MakeFuzzSeeds {
    private MakeFuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        Path fuzz = root.resolve("fixtures/fuzz");
        Path tmp = Files.createTempDirectory("seeds");
        for (String m : List.of("fixtures/hostile/tiny.onnx", "fixtures/surgery/conv_pair_linear.onnx")) {
            Graph g = graft.onnx.OnnxImporter.read(root.resolve(m));
            String stem = Path.of(m).getFileName().toString().replace(".onnx", "");
            Path ext = tmp.resolve(stem + "/model.onnx");
            Files.createDirectories(ext.getParent());
            new graft.onnx.OnnxFormat().write(g, ext, Options.none().set("external-data", "always"));
            byte[] model = Files.readAllBytes(ext);
            byte[] data = Files.readAllBytes(ext.resolveSibling("model.onnx.data"));
            ByteBuffer b = ByteBuffer.allocate(4 + model.length + data.length).putInt(model.length).put(model).put(data);
            Files.write(dir(fuzz, "onnx-external").resolve(stem + ".bin"), b.array());
            Path h5 = tmp.resolve(stem + ".h5");
            try {
                new graft.keras.KerasFormat().write(g, h5, Options.none());
                Files.copy(h5, dir(fuzz, "h5").resolve("graft_" + stem + ".h5"));
            } catch (graft.error.GraftException e) {
                System.err.println(stem + " to Keras: " + e.getMessage());
            }
            Path cm = tmp.resolve(stem + "/net.caffemodel");
            try {
                new graft.caffe.CaffeFormat().write(g, cm, Options.none());
                Files.copy(cm, dir(fuzz, "caffemodel").resolve("graft_" + stem + ".caffemodel"));
                Files.copy(cm.resolveSibling("net.prototxt"), dir(fuzz, "prototxt").resolve("graft_" + stem + ".prototxt"));
            } catch (graft.error.GraftException e) {
                System.err.println(stem + " to Caffe: " + e.getMessage());
            }
        }
        byte[] weights = keras3Weights(tmp.resolve("model.weights.h5"));
        byte[] config = KERAS3_CONFIG.getBytes(StandardCharsets.UTF_8);
        byte[] meta = "{\"keras_version\": \"3.3.3\", \"date_saved\": \"2024-01-01@00:00:00\"}".getBytes(StandardCharsets.UTF_8);
        Files.write(dir(fuzz, "keras-zip").resolve("small_stored.keras"), zip(config, meta, weights, ZipEntry.STORED));
        Files.write(dir(fuzz, "keras-zip").resolve("small_deflated.keras"), zip(config, meta, weights, ZipEntry.DEFLATED));
        Path npy = dir(fuzz, "npy");
        graft.io.Npy.write(npy.resolve("f32_2x3.npy"), graft.ir.DataType.FLOAT, new long[] {2, 3},
                ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 1.5f).putFloat(20, -2f), false);
        graft.io.Npy.write(npy.resolve("i64_4.npy"), graft.ir.DataType.INT64, new long[] {4}, ByteBuffer.allocate(32), false);
        graft.io.Npy.write(npy.resolve("u8_scalar.npy"), graft.ir.DataType.UINT8, new long[] {}, ByteBuffer.allocate(1), false);
        graft.io.Npy.write(npy.resolve("f16_1x1x2x2.npy"), graft.ir.DataType.FLOAT16, new long[] {1, 1, 2, 2}, ByteBuffer.allocate(8), false);
        FuzzContract.delete(tmp);
    }

    private static Path dir(Path fuzz, String target) throws IOException {
        return Files.createDirectories(fuzz.resolve(target));
    }

    /** A Keras 3 model.weights.h5: layers/NAME/vars/I. */
    private static byte[] keras3Weights(Path p) throws IOException {
        try (WritableHdfFile f = HdfFile.write(p)) {
            WritableGroup layers = f.putGroup("layers");
            WritableGroup conv = layers.putGroup("conv").putGroup("vars");
            conv.putDataset("0", new float[3][3][3][4]);
            conv.putDataset("1", new float[] {0.1f, 0.2f, 0.3f, 0.4f});
            WritableGroup dense = layers.putGroup("dense").putGroup("vars");
            dense.putDataset("0", new float[36 * 4][2]);
            dense.putDataset("1", new float[] {0.5f, -0.5f});
        }
        return Files.readAllBytes(p);
    }

    private static byte[] zip(byte[] config, byte[] meta, byte[] weights, int method) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bo)) {
            for (var e : List.of(java.util.Map.entry("metadata.json", meta), java.util.Map.entry("config.json", config),
                    java.util.Map.entry("model.weights.h5", weights))) {
                ZipEntry ze = new ZipEntry(e.getKey());
                ze.setMethod(method);
                if (method == ZipEntry.STORED) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return bo.toByteArray();
    }

    private static final String KERAS3_CONFIG = """
            {"module": "keras", "class_name": "Functional", "registered_name": "Functional", "config": {"name": "functional",
             "trainable": true, "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "name": "input_layer",
               "config": {"batch_shape": [null, 8, 8, 3], "dtype": "float32", "sparse": false, "name": "input_layer"}, "inbound_nodes": []},
              {"module": "keras.layers", "class_name": "Conv2D", "registered_name": null, "name": "conv",
               "config": {"name": "conv", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                "config": {"name": "float32"}, "registered_name": null}, "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
                "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
                "use_bias": true},
               "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8, 8, 3], "dtype": "float32",
                "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
              {"module": "keras.layers", "class_name": "Flatten", "registered_name": null, "name": "flatten",
               "config": {"name": "flatten", "trainable": true, "data_format": "channels_last"},
               "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 6, 6, 4], "dtype": "float32",
                "keras_history": ["conv", 0, 0]}}], "kwargs": {}}]},
              {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "dense",
               "config": {"name": "dense", "trainable": true, "units": 2, "activation": "softmax", "use_bias": true},
               "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 144], "dtype": "float32",
                "keras_history": ["flatten", 0, 0]}}], "kwargs": {}}]}],
             "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense", 0, 0]]}}
            """;
}
