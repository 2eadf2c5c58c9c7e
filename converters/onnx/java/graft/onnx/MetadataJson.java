package graft.onnx;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * The one JSON factory of the ONNX metadata entries ({@code graft.layers}, {@code graft.training}).
 * They use jackson-core's streaming parser and generator, not databind: an ObjectMapper loads and
 * initialises several hundred classes (and the JDK's calendar data for its date format), about
 * 50 ms of every ONNX import and export, for two flat JSON objects. Thread-safe: the factory is
 * immutable once built, and each parser or generator belongs to one call.
 */
final class MetadataJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private MetadataJson() {
    }

    static JsonParser parser(String text) throws IOException {
        return FACTORY.createParser(text);
    }

    /** Writes with {@code body} into a compact JSON string. */
    static String write(Body body) {
        StringWriter s = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(s)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return s.toString();
    }

    /** What a {@link #write} call generates. */
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }
}
