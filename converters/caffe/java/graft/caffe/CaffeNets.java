package graft.caffe;

import com.google.protobuf.Descriptors.FieldDescriptor;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.NetParameter;
import graft.caffe.proto.Caffe.NetStateRule;
import graft.caffe.proto.Caffe.ParamSpec;
import graft.caffe.proto.Caffe.Phase;
import graft.caffe.proto.Caffe.V1LayerParameter;
import java.util.ArrayList;
import java.util.List;

/**
 * Net-level rules Caffe applies before it builds a net: V1 layers upgraded to V2 (type enum to
 * string, {@code blobs_lr}/{@code weight_decay} to {@code param}), and the layers of one phase
 * selected by their include/exclude rules (level 0, no stages, as {@code caffe test} runs).
 */
final class CaffeNets {
    private CaffeNets() {
    }

    /** Every layer of the net as V2 layers, V2 ones first as Caffe's upgrade leaves them. */
    static List<LayerParameter> layers(NetParameter net) {
        List<LayerParameter> r = new ArrayList<>(net.getLayerList());
        for (V1LayerParameter v1 : net.getLayersList()) {
            r.add(upgrade(v1));
        }
        return r;
    }

    static LayerParameter upgrade(V1LayerParameter v1) {
        LayerParameter.Builder b = LayerParameter.newBuilder().setName(v1.getName()).addAllBottom(v1.getBottomList())
                .addAllTop(v1.getTopList()).addAllInclude(v1.getIncludeList()).addAllExclude(v1.getExcludeList())
                .addAllLossWeight(v1.getLossWeightList());
        if (v1.hasType()) {
            b.setType(CaffeLayerType.v2Name(v1.getType()));
        }
        int params = Math.max(v1.getBlobsLrCount(), Math.max(v1.getWeightDecayCount(), v1.getParamCount()));
        for (int i = 0; i < params; i++) {
            ParamSpec.Builder p = ParamSpec.newBuilder();
            if (i < v1.getParamCount()) {
                p.setName(v1.getParam(i));
            }
            if (i < v1.getBlobsLrCount()) {
                p.setLrMult(v1.getBlobsLr(i));
            }
            if (i < v1.getWeightDecayCount()) {
                p.setDecayMult(v1.getWeightDecay(i));
            }
            b.addParam(p);
        }
        // The *_param messages have the same types and names in both layer formats.
        for (var e : v1.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.getType() == FieldDescriptor.Type.MESSAGE && f.getName().endsWith("_param") && !f.isRepeated()) {
                FieldDescriptor target = LayerParameter.getDescriptor().findFieldByName(f.getName());
                if (target != null) {
                    b.setField(target, e.getValue());
                }
            }
        }
        return b.build();
    }

    /**
     * The layers Caffe instantiates for {@code phase}. A data layer of the other phase is kept
     * when nothing else would produce its tops: a caffemodel snapshot holds only the TRAIN
     * net's data layer, and it is still what feeds the layers.
     */
    static List<LayerParameter> forPhase(List<LayerParameter> layers, Phase phase) {
        List<LayerParameter> r = new ArrayList<>();
        java.util.Set<String> produced = new java.util.HashSet<>();
        for (LayerParameter l : layers) {
            if (included(l, phase)) {
                produced.addAll(l.getTopList());
            }
        }
        java.util.Set<String> rescued = new java.util.HashSet<>();
        for (LayerParameter l : layers) {
            CaffeLayerType t = CaffeLayerType.of(l.getType());
            boolean orphanData = t != null && t.role() == CaffeLayerType.Role.INPUT && l.getTopCount() > 0
                    && !produced.contains(l.getTop(0)) && rescued.add(l.getTop(0));
            if (included(l, phase) || orphanData) {
                r.add(l);
            }
        }
        return r;
    }

    private static boolean included(LayerParameter l, Phase phase) {
        if (l.getIncludeCount() > 0) {
            return l.getIncludeList().stream().anyMatch(rule -> meets(rule, phase));
        }
        return l.getExcludeList().stream().noneMatch(rule -> meets(rule, phase));
    }

    private static boolean meets(NetStateRule rule, Phase phase) {
        if (rule.hasPhase() && rule.getPhase() != phase) {
            return false;
        }
        if (rule.hasMinLevel() && 0 < rule.getMinLevel()) {
            return false;
        }
        if (rule.hasMaxLevel() && 0 > rule.getMaxLevel()) {
            return false;
        }
        return rule.getStageCount() == 0;
    }
}
