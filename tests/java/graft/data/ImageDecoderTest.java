package graft.data;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What graft reads from PNGs with alpha, palettes, 16-bit samples, and from progressive and CMYK
 * JPEGs, against OpenCV ({@code IMREAD_COLOR}) and PIL ({@code convert('RGB')}) (issue #25.4:
 * alpha was composited onto black). Images: fixtures/data/make_decode_images.py.
 */
class ImageDecoderTest {
    static final Path DIR = TestPaths.fixtures().resolve("data/decode");
    static final String[] FILES = {"rgba.png", "la.png", "palette.png", "grey.png", "rgb16.png", "grey16.png", "progressive.jpg", "cmyk.jpg"};

    @Test
    void everyImageReadsAsOpenCvAndPilReadIt() {
        Path out = TestPaths.scratch("decode-oracle");
        List<String> args = new ArrayList<>(List.of(out.toString()));
        for (String f : FILES) {
            args.add(DIR.resolve(f).toString());
        }
        Python.run(TestPaths.fixtures().resolve("data/decode_oracle.py"), args.toArray(String[]::new));
        StringBuilder report = new StringBuilder();
        for (String f : FILES) {
            // through resized() (same size: a plain copy), as every command reads images
            BufferedImage read = ImageDecoder.read(DIR.resolve(f));
            int w = read.getWidth();
            int h = read.getHeight();
            BufferedImage img = ImageDecoder.resized(read, w, h);
            float[] chw = new float[3 * w * h];
            ImageDecoder.pixels(img, 0, 0, w, h, 3, chw, 0);
            // JPEG decoders may differ by a level of rounding (CMYK: OpenCV and PIL differ by 1 themselves)
            int tol = f.endsWith(".jpg") ? 2 : 0;
            int cv = maxDiff(chw, Npy.read(out.resolve(f + ".cv2.npy")).toFloats(), w, h);
            report.append(String.format("%n%-16s OpenCV %d", f, cv));
            assertThat(cv).as(f + " against OpenCV").isLessThanOrEqualTo(tol);
            if (!f.equals("grey16.png")) { // PIL clips 16-bit grey at 255 instead of scaling it
                int pil = maxDiff(chw, Npy.read(out.resolve(f + ".pil.npy")).toFloats(), w, h);
                report.append(" PIL ").append(pil);
                assertThat(pil).as(f + " against PIL").isLessThanOrEqualTo(tol);
            }
        }
        System.out.println("max |graft - oracle| per image:" + report);
    }

    @Test
    void aTransparentWhitePixelReadsWhite() {
        BufferedImage read = ImageDecoder.read(DIR.resolve("rgba.png"));
        BufferedImage img = ImageDecoder.resized(read, read.getWidth(), read.getHeight());
        assertThat(img.getRGB(0, 0) & 0xffffff).isEqualTo(0xffffff);
    }

    /** max |graft CHW - oracle HWC| over all pixels and channels. */
    static int maxDiff(float[] chw, float[] hwc, int w, int h) {
        int worst = 0;
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < w * h; i++) {
                worst = Math.max(worst, (int) Math.abs(chw[c * w * h + i] - hwc[i * 3 + c]));
            }
        }
        return worst;
    }
}
