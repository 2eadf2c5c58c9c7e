package graft.caffe;

import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.TransformationParameter;
import graft.error.MalformedModelException;
import graft.error.UsageException;
import graft.io.Options;
import graft.ir.Dim;
import graft.ir.Shape;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.List;

/**
 * Input and data layers as graph inputs. A data layer's first top is the image batch, shaped
 * (batch_size, channels, crop_size or the resize size, ...); its other tops (the label) are
 * recorded as training metadata. What the database would tell Caffe (channels, image size) is
 * taken, in order, from the option {@code data-shape} (CxHxW), the layer's own parameters, the
 * first convolution's weights, the mean values; it stays symbolic otherwise.
 */
final class DataInputs {
    private DataInputs() {
    }

    static void declare(ImportContext c, LayerParameter l, CaffeLayerType t, Options options) {
        if (t == CaffeLayerType.INPUT) {
            var ip = l.getInputParam();
            for (int i = 0; i < l.getTopCount(); i++) {
                if (ip.getShapeCount() == 0) {
                    throw new MalformedModelException(c.file, "Input layer '" + l.getName() + "' has no input_param shape");
                }
                var s = ip.getShape(Math.min(i, ip.getShapeCount() - 1));
                CaffeImporter.input(c, l.getTop(i), s.getDimList().stream().mapToLong(Long::longValue).toArray());
            }
            return;
        }
        if (l.getTopCount() == 0) {
            return;
        }
        TransformationParameter tp = l.getTransformParam();
        long batch = -1;
        long channels = -1;
        long h = -1;
        long w = -1;
        long crop = tp.getCropSize();
        switch (t) {
            case DATA -> {
                var dp = l.getDataParam();
                batch = dp.getBatchSize();
                if (crop == 0) {
                    crop = dp.getCropSize();
                }
                if (!l.hasTransformParam() && (dp.hasScale() || dp.hasMeanFile() || dp.hasMirror())) {
                    TransformationParameter.Builder b = TransformationParameter.newBuilder();
                    if (dp.hasScale()) {
                        b.setScale(dp.getScale());
                    }
                    if (dp.hasMeanFile()) {
                        b.setMeanFile(dp.getMeanFile());
                    }
                    if (dp.hasMirror()) {
                        b.setMirror(dp.getMirror());
                    }
                    b.setCropSize((int) crop);
                    tp = b.build();
                }
            }
            case IMAGE_DATA -> {
                var ip = l.getImageDataParam();
                batch = ip.getBatchSize();
                channels = ip.getIsColor() ? 3 : 1;
                if (ip.getNewHeight() > 0 && ip.getNewWidth() > 0) {
                    h = ip.getNewHeight();
                    w = ip.getNewWidth();
                }
            }
            case MEMORY_DATA -> {
                var mp = l.getMemoryDataParam();
                batch = mp.getBatchSize();
                channels = mp.getChannels();
                h = mp.getHeight();
                w = mp.getWidth();
            }
            case WINDOW_DATA -> {
                batch = l.getWindowDataParam().getBatchSize();
                channels = 3;
                if (crop == 0) {
                    crop = l.getWindowDataParam().getCropSize();
                }
            }
            case HDF5_DATA -> batch = l.getHdf5DataParam().getBatchSize();
            case DUMMY_DATA -> {
                var dp = l.getDummyDataParam();
                if (dp.getShapeCount() > 0) {
                    var s = dp.getShape(0).getDimList();
                    CaffeImporter.input(c, l.getTop(0), s.stream().mapToLong(Long::longValue).toArray());
                    labels(c, l);
                    return;
                }
                batch = dp.getNumCount() > 0 ? dp.getNum(0) : -1;
                channels = dp.getChannelsCount() > 0 ? dp.getChannels(0) : -1;
                h = dp.getHeightCount() > 0 ? dp.getHeight(0) : -1;
                w = dp.getWidthCount() > 0 ? dp.getWidth(0) : -1;
            }
            default -> throw new IllegalStateException(t.name());
        }
        if (crop > 0) {
            h = crop;
            w = crop;
        }
        String given = options.string("data-shape", null);
        if (given != null) {
            long[] d = parseShape(given);
            channels = d[d.length - 3];
            h = d[d.length - 2];
            w = d[d.length - 1];
            if (d.length == 4) {
                batch = d[0];
            }
        }
        if (channels <= 0) {
            channels = firstConvChannels(c, l.getTop(0));
        }
        if (channels <= 0 && tp.getMeanValueCount() > 1) {
            channels = tp.getMeanValueCount();
        }
        if (channels <= 0 && crop > 0) {
            // Crops of a mean-subtracted image database (CaffeNet, VGG train_val): colour images.
            channels = 3;
            c.g.metadata().put("caffe.assumed", "data layer '" + l.getName() + "' has 3 channels (its database is not at hand)");
        }
        List<Dim> dims = new ArrayList<>();
        dims.add(batch > 0 ? Dim.of(batch) : Dim.sym("N"));
        dims.add(channels > 0 ? Dim.of(channels) : Dim.sym("C"));
        dims.add(h > 0 ? Dim.of(h) : Dim.sym("H"));
        dims.add(w > 0 ? Dim.of(w) : Dim.sym("W"));
        CaffeImporter.input(c, l.getTop(0), new Shape(dims));
        if (c.g.inputs().size() == 1) {
            CaffeImporter.preprocess(c.g, tp, channels, c.file);
        }
        labels(c, l);
    }

    private static void labels(ImportContext c, LayerParameter l) {
        for (int i = 1; i < l.getTopCount(); i++) {
            c.g.metadata().merge("training.label", l.getTop(i), (a, b) -> a.contains(b) ? a : a + "," + b);
        }
    }

    /** Caffe reads the channel count from the database; the first convolution's weights say it as well. */
    private static long firstConvChannels(ImportContext c, String top) {
        for (LayerParameter l : c.layers) {
            if (l.getBottomList().contains(top) && CaffeLayerType.of(l.getType()) == CaffeLayerType.CONVOLUTION) {
                List<Weight> b = c.blobs.get(l.getName());
                if (b != null && !b.isEmpty() && b.get(0).shape().length == 4) {
                    return b.get(0).shape()[1] * l.getConvolutionParam().getGroup();
                }
                return -1;
            }
        }
        return -1;
    }

    static long[] parseShape(String s) {
        String[] p = s.trim().split("[x,]");
        if (p.length < 3 || p.length > 4) {
            throw new UsageException("data-shape '" + s + "': give CxHxW or NxCxHxW, e.g. 1x28x28");
        }
        long[] r = new long[p.length];
        try {
            for (int i = 0; i < p.length; i++) {
                r[i] = Long.parseLong(p[i].trim());
                if (r[i] <= 0) {
                    throw new NumberFormatException();
                }
            }
        } catch (NumberFormatException e) {
            throw new UsageException("data-shape '" + s + "': dimensions must be positive integers, e.g. 1x28x28");
        }
        return r;
    }
}
