package graft.surgery;

import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code set-input-shape HxWxC} (Keras order, batch kept) or {@code N,C,H,W} (N may be a symbol):
 * the model input gets that shape and every shape is inferred again. An NHWC input (a Keras
 * channels_last model) gets the same sizes in its own order, (N, H, W, C). A layer that no longer
 * fits (a Dense after Flatten, typically) is named in the error.
 */
public record SetInputShape(String spec) implements Edit {
    @Override
    public String describe() {
        return "set-input-shape " + spec;
    }

    Shape target(Graph g) {
        if (g.inputs().size() != 1) {
            throw new EditException(describe(), "the model has " + g.inputs().size() + " inputs; this edit needs exactly one");
        }
        Value in = g.inputs().get(0);
        TensorType t = g.type(in.name()) != null ? g.type(in.name()) : in.type();
        List<Dim> dims = new ArrayList<>();
        boolean nhwc = KerasLayout.nhwcInputBehindElementwise(g, in.name());
        String[] p;
        if (spec.contains("x")) {
            p = spec.split("x");
            if (p.length != 3 && p.length != 2) {
                throw new EditException(describe(), "shape '" + spec + "' is neither HxWxC, HxW nor N,C,H,W");
            }
            Dim batch = t != null && t.shape() != null && t.shape().rank() == 4 ? t.shape().dim(0) : Dim.sym("N");
            int channelAxis = nhwc ? 3 : 1;
            long c = p.length == 3 ? size(p[2]) : t != null && t.shape() != null && t.shape().rank() == 4 && t.shape().dim(channelAxis).isFixed()
                    ? t.shape().dim(channelAxis).value() : 3;
            dims.add(batch);
            dims.add(Dim.of(c));
            dims.add(Dim.of(size(p[0])));
            dims.add(Dim.of(size(p[1])));
        } else {
            p = spec.split(",");
            for (String s : p) {
                dims.add(s.trim().matches("\\d+") ? Dim.of(size(s.trim())) : Dim.sym(s.trim()));
            }
        }
        if (nhwc && dims.size() == 4) {
            // both forms name the channel count second (N,C,H,W); the input itself is N,H,W,C
            dims.add(dims.remove(1));
        }
        if (t != null && t.shape() != null && t.shape().rank() != dims.size()) {
            throw new EditException(describe(), "input '" + in.name() + "' has rank " + t.shape().rank() + ", the new shape " + dims.size());
        }
        return new Shape(dims);
    }

    private long size(String s) {
        try {
            long v = Long.parseLong(s.trim());
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new EditException(describe(), "'" + s + "' is not a positive size");
    }

    @Override
    public void check(Graph g) {
        target(g);
    }

    @Override
    public void rewire(Graph g) {
        Value in = g.inputs().get(0);
        TensorType old = g.type(in.name()) != null ? g.type(in.name()) : in.type();
        TensorType t = new TensorType(old == null ? graft.ir.DataType.FLOAT : old.dtype(), target(g));
        g.inputs().set(0, new Value(in.name(), t));
        g.types().put(in.name(), t);
        // Declared intermediate types describe the old size; inference must not fall back to them.
        g.types().keySet().removeIf(k -> !k.equals(in.name()) && g.initializer(k) == null);
    }
}
