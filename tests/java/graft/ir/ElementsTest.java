package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The one element decoder ({@link Elements}), behind Weight, Tensor, .npy arrays and the reference
 * executor, against numpy's own decoding of the same bytes (fixtures/ir/dtypes_oracle.py) for every
 * numeric type, each type's extremes included. Exact: the float64 view must equal numpy's float64
 * bit for bit (int64/uint64 beyond 2^53 round the same way in both); the float32 view equals
 * numpy's float32 of the same elements.
 */
class ElementsTest {
    private static final Map<String, DataType> TYPES = Map.ofEntries(Map.entry("int8", DataType.INT8), Map.entry("uint8", DataType.UINT8),
            Map.entry("int16", DataType.INT16), Map.entry("uint16", DataType.UINT16), Map.entry("int32", DataType.INT32),
            Map.entry("uint32", DataType.UINT32), Map.entry("int64", DataType.INT64), Map.entry("uint64", DataType.UINT64),
            Map.entry("bool", DataType.BOOL), Map.entry("float16", DataType.FLOAT16), Map.entry("float32", DataType.FLOAT),
            Map.entry("float64", DataType.DOUBLE), Map.entry("bfloat16", DataType.BFLOAT16));

    @Test
    void everyNumericTypeDecodesAsNumpyDecodesIt() throws Exception {
        Path dir = TestPaths.scratch("elements");
        Python.run(TestPaths.fixtures().resolve("ir/dtypes_oracle.py"), dir.toString());
        for (Map.Entry<String, DataType> e : TYPES.entrySet()) {
            DataType t = e.getValue();
            byte[] raw = Files.readAllBytes(dir.resolve(e.getKey() + ".bin"));
            ByteBuffer want = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(e.getKey() + ".f64"))).order(ByteOrder.LITTLE_ENDIAN);
            int n = raw.length / t.size();
            assertThat(n).isEqualTo(want.capacity() / 8);
            // a buffer whose position is not 0 (a view into a larger mapping), in big-endian order: Elements reads little-endian from the position
            ByteBuffer b = ByteBuffer.allocate(raw.length + 3).order(ByteOrder.BIG_ENDIAN);
            b.position(3);
            b.put(raw);
            b.position(3);
            float[] f = Elements.toFloats(t, b, n);
            for (int i = 0; i < n; i++) {
                double w = want.getDouble(i * 8);
                assertThat(Double.doubleToLongBits(Elements.get(t, b.duplicate().order(ByteOrder.LITTLE_ENDIAN), i)))
                        .as(e.getKey() + "[" + i + "] as float64").isEqualTo(Double.doubleToLongBits(w));
                assertThat(Float.floatToIntBits(f[i])).as(e.getKey() + "[" + i + "] as float32").isEqualTo(Float.floatToIntBits((float) w));
            }
            if (!t.isFloating()) {
                long[] l = Elements.toLongs(t, b, n);
                for (int i = 0; i < n; i++) {
                    long expect = t == DataType.UINT64 || t == DataType.INT64 ? ByteBuffer.wrap(raw, i * 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() : (long) want.getDouble(i * 8);
                    assertThat(l[i]).as(e.getKey() + "[" + i + "] as int64").isEqualTo(expect);
                }
            }
            // the types built on it agree
            Weight wgt = new Weight("w", t, new long[] {n}, WeightData.of(ByteBuffer.wrap(raw)));
            assertThat(wgt.toFloats()).isEqualTo(f);
            assertThat(new Tensor(t, new long[] {n}, ByteBuffer.wrap(raw)).toFloats()).isEqualTo(f);
        }
    }
}
