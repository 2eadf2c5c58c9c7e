package graft.caffe;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import graft.error.MalformedModelException;
import graft.io.ModelFiles;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads protobuf text format files (prototxt, solver.prototxt) into a message, reporting
 * syntax errors with the line and column protobuf's parser found them at.
 */
public final class CaffeText {
    /** A prototxt larger than this is not a network description. */
    static final long MAX_TEXT = 64L << 20;

    private CaffeText() {
    }

    /** Parses {@code file} as text format into {@code builder}; returns the built message. */
    @SuppressWarnings("unchecked")
    public static <T extends Message> T read(Path file, Message.Builder builder) {
        long size = ModelFiles.checkReadable(file);
        if (size > MAX_TEXT) {
            throw new MalformedModelException(file, "is " + size + " bytes, too large for a text prototxt (is it a binary caffemodel?)");
        }
        String text;
        try {
            byte[] bytes = Files.readAllBytes(graft.io.ModelFiles.source(file));
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedModelException(file, "is not text (it holds bytes that are not UTF-8); a binary .caffemodel goes in --weights");
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
        }
        try {
            TextFormat.Parser parser = TextFormat.Parser.newBuilder().setAllowUnknownFields(false).build();
            parser.merge(text, builder);
        } catch (TextFormat.ParseException e) {
            throw new MalformedModelException(file, "syntax error at line " + e.getLine() + ", column " + e.getColumn()
                    + ": " + stripPosition(e.getMessage()));
        } catch (RuntimeException e) {
            if (!graft.error.Faults.thrownIn(e, "com.google.protobuf.", "graft.caffe.proto.")) {
                throw e;
            }
            throw new MalformedModelException(file, "is not a valid prototxt: " + e.getMessage());
        }
        return (T) builder.build();
    }

    /** The comment prefix of model metadata a prototxt has no field for ({@code preprocess.layout}). */
    static final String METADATA_COMMENT = "# graft-metadata ";

    /**
     * {@code # graft-metadata key=value} lines at the top of a prototxt graft wrote: metadata
     * Caffe has no field for. Caffe and OpenCV read them as comments.
     */
    static java.util.Map<String, String> metadataComments(Path file) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            lines.takeWhile(l -> l.startsWith("#")).filter(l -> l.startsWith(METADATA_COMMENT)).forEach(l -> {
                String kv = l.substring(METADATA_COMMENT.length());
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
        }
        return m;
    }

    /** protobuf prefixes its message with "line:column: "; the position is already in ours. */
    private static String stripPosition(String m) {
        if (m == null) {
            return "unreadable";
        }
        return m.replaceFirst("^\\d+:\\d+: ", "").replace('\n', ' ');
    }
}
