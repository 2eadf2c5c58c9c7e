package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The history plot's axes: accuracy always 0..1 (a flat 0.333 run went to 1.33). */
class HistoryTest {
    @Test
    void accuracyAxisIsZeroToOne() {
        assertThat(History.axis(new double[] {0.333, 0.333}, new double[] {Double.NaN, Double.NaN}, true)).containsExactly(0, 1);
        assertThat(History.axis(new double[] {0.9, 0.5}, new double[] {0.7, Double.NaN}, false)).containsExactly(0.5, 0.9);
    }
}
