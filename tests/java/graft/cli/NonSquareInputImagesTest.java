package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Found by the silent-output audit's image rows: {@code features} and {@code finetune} made
 * square H x H images for a model whose fixed input is not square (here (N, 3, 5, 6),
 * fixtures/data/identity_5x6.onnx), so ONNX Runtime refused the batch and graft exited 4. The
 * preprocessing rule makes an H x W input of every image for every command: features of the
 * identity model must equal what {@code run --images} feeds it, bit for bit, for an image of the
 * input's own size and for one that is resized and centre-cropped.
 */
class NonSquareInputImagesTest {
    @Test
    void featuresAndFinetuneMakeTheSameHxWTensorAsRunImages() throws IOException {
        Path model = TestPaths.fixtures().resolve("data/identity_5x6.onnx");
        Path dir = TestPaths.scratch("non-square-input");
        Random r = new Random(9);
        int[][] sizes = {{6, 5}, {13, 9}};
        for (int[] wh : sizes) {
            String tag = wh[0] + "x" + wh[1];
            Path images = Files.createDirectories(dir.resolve(tag + "/data/one"));
            BufferedImage img = new BufferedImage(wh[0], wh[1], BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < wh[1]; y++) {
                for (int x = 0; x < wh[0]; x++) {
                    img.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            ImageIO.write(img, "png", images.resolve("a.png").toFile());
            Cli.Result run = Cli.run("run", model.toString(), "--images", images.toString(), "--out", dir.resolve(tag + "/run").toString());
            assertThat(run.code()).as(run.err()).isZero();
            Path feats = dir.resolve(tag + "/features.npy");
            Cli.Result f = Cli.run("features", model.toString(), dir.resolve(tag + "/data").toString(), "--upto", "copy", "-o", feats.toString());
            assertThat(f.code()).as(tag + ": " + f.err()).isZero();
            Npy.Array want = Npy.read(dir.resolve(tag + "/run/y.npy"));
            Npy.Array got = Npy.read(feats);
            assertThat(got.shape()).containsExactly(1, 3, 5, 6);
            assertThat(got.toFloats()).as(tag).containsExactly(want.toFloats());
        }
        // one epoch of finetune reads the same H x W images (it used to fail in ONNX Runtime, exit 4)
        Cli.Result ft = Cli.run("finetune", model.toString(), dir.resolve("6x5/data").toString(), "--epochs", "1", "--val-fraction", "0",
                "-o", dir.resolve("ft").toString());
        assertThat(ft.code()).as(ft.err()).isNotEqualTo(4);
    }
}
