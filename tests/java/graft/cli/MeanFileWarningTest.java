package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import org.junit.jupiter.api.Test;

/** The warning for a Caffe mean_file graft did not read: only when no mean replaces it. */
class MeanFileWarningTest {
    @Test
    void warnsOnlyWhenNoMeanReplacesTheUnreadFile() {
        Graph g = new Graph("caffe");
        g.metadata().put("preprocess.mean_file", "data/ilsvrc12/imagenet_mean.binaryproto");
        DataOptions o = new DataOptions();
        assertThat(o.meanFileWarning(g)).contains("mean_file 'data/ilsvrc12/imagenet_mean.binaryproto' was not read");
        o.mean = "104,117,123";
        assertThat(o.meanFileWarning(g)).isNull();
        o.mean = null;
        g.metadata().put("preprocess.mean_value", "104,117,123"); // read from the file's channel averages
        assertThat(o.meanFileWarning(g)).isNull();
    }
}
