package graft.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.ir.Preprocessing;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image folder listed (what finetune --spark's driver holds) against the same folder read:
 * the same files in the same order, labels and classes, through --classes/--per-class selection
 * and the validation split; each listed block decoded gives the reader's values bit for bit; the
 * listed set itself has no values to read.
 */
class ListedImagesTest {
    @TempDir
    Path dir;

    @Test
    void listedThenDecodedEqualsReadBitForBit() throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        String[] classes = {"b", "a", "c"};
        for (int c = 0; c < classes.length; c++) {
            Path d = Files.createDirectories(dir.resolve(classes[c]));
            for (int i = 0; i < 7; i++) {
                int w = 9 + r.nextInt(8);
                int h = 9 + r.nextInt(8);
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        img.setRGB(x, y, r.nextInt(1 << 24));
                    }
                }
                String ext = i % 3 == 0 ? "PNG" : i % 3 == 1 ? "png" : "jpg";
                ImageIO.write(img, ext.equals("jpg") ? "jpeg" : "png", d.resolve(String.format("%d-%02d.%s", c, 20 - i, ext)).toFile());
            }
        }
        Files.writeString(dir.resolve("a").resolve("notes.txt"), "not an image");
        Preprocessing pre = new Preprocessing(true, 1.0 / 255, new double[] {0.4, 0.5, 0.6}, new double[] {0.2, 0.25, 0.3}, 1);
        Samples read = ImageFolder.readHw(dir, 8, 8, 3, pre);
        long before = ImageFolder.decoded();
        Samples listed = ImageFolder.listHw(dir, 8, 8, 3, pre);
        assertThat(ImageFolder.decoded()).as("listing decodes nothing").isEqualTo(before);
        assertThat(listed.size()).isEqualTo(21);
        assertThat(listed.classes()).isEqualTo(read.classes()).containsExactly("a", "b", "c");
        assertThat(listed.labels()).isEqualTo(read.labels());
        assertThat(listed.sampleShape()).isEqualTo(read.sampleShape());
        for (String f : listed.listed().files()) {
            assertThat(Path.of(f)).isAbsolute();
        }
        assertThatThrownBy(() -> listed.batch(new int[] {0}, null)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> listed.sample(0)).isInstanceOf(IllegalStateException.class);
        sameValues(listed, read);

        // --classes 2,0 --per-class 4, then a 0.25 validation split, on both: the same samples
        Samples ls = listed.selectClasses(new long[] {2, 0}, 4, 5);
        Samples rs = read.selectClasses(new long[] {2, 0}, 4, 5);
        Samples[] lsplit = ls.split(0.25, 3);
        Samples[] rsplit = rs.split(0.25, 3);
        for (int k = 0; k < 2; k++) {
            assertThat(lsplit[k].listed()).isNotNull();
            assertThat(lsplit[k].classes()).isEqualTo(rsplit[k].classes()).containsExactly("c", "a");
            assertThat(lsplit[k].labels()).isEqualTo(rsplit[k].labels());
            sameValues(lsplit[k], rsplit[k]);
        }
        assertThat(lsplit[0].size() + lsplit[1].size()).isEqualTo(8);
    }

    /** Each contiguous block of {@code listed} decoded equals those rows of {@code read}, float for float. */
    private static void sameValues(Samples listed, Samples read) {
        int n = listed.size();
        for (int from = 0; from < n; from += 4) {
            int k = Math.min(4, n - from);
            Samples block = listed.decode(from, k);
            assertThat(block.listed()).isNull();
            assertThat(block.labels()).isEqualTo(java.util.Arrays.copyOfRange(read.labels(), from, from + k));
            for (int i = 0; i < k; i++) {
                assertThat(floats(block.sample(i))).isEqualTo(floats(read.sample(from + i)));
            }
        }
    }

    private static float[] floats(FloatBuffer b) {
        float[] f = new float[b.remaining()];
        b.get(f);
        return f;
    }
}
