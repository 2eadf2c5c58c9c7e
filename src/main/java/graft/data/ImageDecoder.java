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

    /**
     * Decodes {@code file} to opaque 8-bit RGB; a file javax.imageio cannot decode fails naming
     * it. Alpha is dropped, not composited: a transparent white pixel reads 255, 255, 255, as PIL's
     * {@code convert('RGB')}, OpenCV's {@code IMREAD_COLOR}, Keras, torchvision and Caffe read it.
     * Grey is replicated into R, G, B; 16-bit samples keep their high byte (OpenCV, and PIL for
     * 16-bit RGB); CMYK (a JPEG, which javax.imageio hands over as ink amounts) becomes
     * (255 - ink) (255 - K) / 255, the naive conversion PIL and OpenCV make, without a colour profile.
     */
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
        return opaque(img);
    }

    /**
     * As {@link #read(Path)} for an image's bytes already in memory (a Spark {@code binaryFile}
     * row): the same javax.imageio decoders, so the same pixels; {@code name} (the file's path or
     * URI) is what an error names.
     */
    public static BufferedImage read(byte[] bytes, String name) {
        BufferedImage img;
        try {
            img = ImageIO.read(new java.io.ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw new MalformedModelException(Path.of(name), "is not a readable image (" + e.getMessage() + "). javax.imageio reads JPEG, PNG, BMP and GIF", e);
        }
        if (img == null) {
            throw new MalformedModelException(Path.of(name), "is not a readable image. javax.imageio reads JPEG, PNG, BMP and GIF");
        }
        return opaque(img);
    }

    /** {@code img} as TYPE_INT_RGB with every pixel's colour kept and its alpha dropped. */
    static BufferedImage opaque(BufferedImage img) {
        if (img.getType() == BufferedImage.TYPE_INT_RGB) {
            return img;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.awt.image.ColorModel cm = img.getColorModel();
        if (img.getType() == BufferedImage.TYPE_3BYTE_BGR) {
            // the common JPEG: opaque 8-bit sRGB, which drawing copies exactly and fast
            Graphics2D g = dst.createGraphics();
            g.drawImage(img, 0, 0, null);
            g.dispose();
            return dst;
        }
        java.awt.image.Raster r = img.getRaster();
        int bands = r.getNumBands();
        boolean component = cm instanceof java.awt.image.ComponentColorModel && !cm.isAlphaPremultiplied()
                && (cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY
                || cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_RGB);
        int shift = component && r.getTransferType() == java.awt.image.DataBuffer.TYPE_USHORT ? 8 : 0;
        boolean grey = component && cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY;
        int[] px = new int[bands];
        boolean cmyk = cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_CMYK && bands == 4;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb;
                if (cmyk) {
                    r.getPixel(x, y, px);
                    int k = 255 - px[3];
                    rgb = (255 - px[0]) * k / 255 << 16 | (255 - px[1]) * k / 255 << 8 | (255 - px[2]) * k / 255;
                } else if (component && (shift == 8 || r.getTransferType() == java.awt.image.DataBuffer.TYPE_BYTE)) {
                    // the stored samples: getRGB would pass grey through a linear-to-sRGB curve
                    r.getPixel(x, y, px);
                    int cr = px[0] >> shift;
                    int cg = grey ? cr : px[1] >> shift;
                    int cb = grey ? cr : px[2] >> shift;
                    rgb = cr << 16 | cg << 8 | cb;
                } else {
                    rgb = cm.getRGB(r.getDataElements(x, y, null)) & 0xffffff; // palette, packed ints: colour without alpha
                }
                dst.setRGB(x, y, rgb);
            }
        }
        return dst;
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
