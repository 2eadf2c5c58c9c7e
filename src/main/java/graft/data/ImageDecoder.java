package graft.data;

import graft.error.MalformedModelException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * The one image decoder of graft (training data and validation batches alike): javax.imageio
 * decoding, bilinear resizing and RGB 0..255 pixels, or their luma for one channel. Stateless
 * and safe to call from many threads at once.
 */
public final class ImageDecoder {
    private ImageDecoder() {
    }

    /** Decodes {@code file}; a file javax.imageio cannot decode fails naming it. */
    public static BufferedImage read(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new MalformedModelException(file, "is not a readable image (" + e.getMessage() + "). javax.imageio reads JPEG, PNG, BMP and GIF", e);
        }
        if (img == null) {
            throw new MalformedModelException(file, "is not a readable image. javax.imageio reads JPEG, PNG, BMP and GIF");
        }
        return img;
    }

    /** {@code img} resized to exactly {@code w} x {@code h}, bilinear, as RGB. */
    public static BufferedImage resized(BufferedImage img, int w, int h) {
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dst.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        return dst;
    }

    /**
     * The {@code w} x {@code h} window at ({@code x0}, {@code y0}) of {@code img} into {@code out}
     * from {@code offset}, channel-major (CHW): R, G, B planes of 0..255 values, or for one
     * channel the luma 0.299 R + 0.587 G + 0.114 B.
     */
    public static void pixels(BufferedImage img, int x0, int y0, int w, int h, int channels, float[] out, int offset) {
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x0 + x, y0 + y);
                int r = (rgb >> 16) & 0xff;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                int k = offset + y * w + x;
                if (channels == 1) {
                    out[k] = (float) (0.299 * r + 0.587 * g + 0.114 * b);
                } else {
                    out[k] = r;
                    out[k + plane] = g;
                    out[k + 2 * plane] = b;
                }
            }
        }
    }
}
