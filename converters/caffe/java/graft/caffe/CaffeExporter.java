package graft.caffe;

import com.google.protobuf.TextFormat;
import graft.caffe.proto.Caffe.BlobShape;
import graft.caffe.proto.Caffe.NetParameter;
import graft.io.AtomicOutput;
import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.ShapeInference;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an IR graph as a deploy {@code .prototxt} and a V2 {@code .caffemodel} beside each
 * other (same stem). The caffemodel is streamed: each layer's definition is serialized by
 * protobuf, and each blob's float32 bytes go from the weight's source (a mapped file region,
 * usually) straight to the output channel, since packed float data is little-endian float32 on
 * the wire. Both files are written atomically and committed together.
 */
final class CaffeExporter {
    private CaffeExporter() {
    }

    static void write(Graph source, Path file, boolean force, List<Path> inputs) {
        GraphValidator.check(source);
        for (graft.ir.Value v : source.outputs()) {
            if (source.producer(v.name()) == null) {
                // Caffe's outputs are the tops no layer reads: a net cannot hand back its input or a weight
                throw new UnsupportedModelException("model '" + source.name() + "' cannot be written as Caffe: output '" + v.name()
                        + "' is " + (source.initializer(v.name()) != null ? "a weight" : "the model's input itself")
                        + ", and a Caffe net's outputs are what its layers compute");
            }
        }
        ShapeInference.run(source);
        Graph g = NchwView.of(source);
        if (g != source) {
            ShapeInference.run(g);
        }
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String stem = dot > 0 ? n.substring(0, dot) : n;
        Path proto = file.resolveSibling(stem + ".prototxt");
        Path model = file.resolveSibling(stem + ".caffemodel");
        AtomicOutput.checkTarget(proto, force, inputs);
        AtomicOutput.checkTarget(model, force, inputs);
        List<ExportPlanner.Layer> layers = ExportPlanner.plan(g);
        NetParameter.Builder deploy = NetParameter.newBuilder().setName(g.name());
        for (ExportPlanner.Layer l : layers) {
            deploy.addLayer(l.def());
        }
        try (AtomicOutput p = AtomicOutput.open(proto, force, inputs); AtomicOutput m = AtomicOutput.open(model, force, inputs)) {
            String text = TextFormat.printer().printToString(deploy.build());
            String layout = g.metadata().get("preprocess.layout");
            if (layout != null) {
                text = CaffeText.METADATA_COMMENT + "preprocess.layout=" + layout + "\n" + text;
            }
            writeAll(p.channel(), ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            writeModel(m.channel(), g.name(), layers);
            AtomicOutput.commitAll(List.of(p, m));
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + model + "': cannot be written: " + e.getMessage(), e);
        }
    }

    private static void writeModel(FileChannel ch, String name, List<ExportPlanner.Layer> layers) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        byte[] nb = name.getBytes(StandardCharsets.UTF_8);
        tag(head, 1);
        CaffeBinary.writeVarint(head, nb.length);
        head.writeBytes(nb);
        writeAll(ch, ByteBuffer.wrap(head.toByteArray()));
        for (ExportPlanner.Layer l : layers) {
            byte[] def = l.def().toByteArray();
            List<byte[]> blobHeads = new ArrayList<>();
            long total = def.length;
            for (ExportPlanner.Blob b : l.blobs()) {
                ByteArrayOutputStream bh = new ByteArrayOutputStream();
                BlobShape.Builder s = BlobShape.newBuilder();
                for (long d : b.shape()) {
                    s.addDim(d);
                }
                byte[] sb = s.build().toByteArray();
                tag(bh, 7);
                CaffeBinary.writeVarint(bh, sb.length);
                bh.writeBytes(sb);
                tag(bh, 5);
                CaffeBinary.writeVarint(bh, b.weight().byteSize());
                byte[] bhb = bh.toByteArray();
                blobHeads.add(bhb);
                long blobLen = bhb.length + b.weight().byteSize();
                total += 1 + varintSize(blobLen) + blobLen;
            }
            ByteArrayOutputStream lh = new ByteArrayOutputStream();
            tag(lh, 100);
            CaffeBinary.writeVarint(lh, total);
            lh.writeBytes(def);
            writeAll(ch, ByteBuffer.wrap(lh.toByteArray()));
            for (int i = 0; i < l.blobs().size(); i++) {
                ExportPlanner.Blob b = l.blobs().get(i);
                ByteArrayOutputStream bh = new ByteArrayOutputStream();
                tag(bh, 7);
                CaffeBinary.writeVarint(bh, blobHeads.get(i).length + b.weight().byteSize());
                bh.writeBytes(blobHeads.get(i));
                writeAll(ch, ByteBuffer.wrap(bh.toByteArray()));
                b.weight().writeTo(ch);
            }
        }
    }

    private static void tag(ByteArrayOutputStream out, int field) {
        CaffeBinary.writeVarint(out, ((long) field << 3) | 2);
    }

    private static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            n++;
            v >>>= 7;
        }
        return n;
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
