package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * graft's streaming JSON reader gives the tree Jackson's ObjectMapper gives (the independent
 * implementation it replaces on the read path): every architecture JSON of the Keras corpus,
 * standalone or as an .h5 file's model_config, and the edge cases of numbers, duplicate keys,
 * nesting, empty and broken documents.
 */
class JsonTreeTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    static List<String> corpusDocuments() throws IOException {
        Path keras = TestPaths.corpus().resolve("keras");
        TestPaths.assumeExists(keras, "the Keras corpus");
        List<String> docs = new ArrayList<>();
        try (Stream<Path> s = Files.walk(keras)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                if (p.toString().endsWith(".json")) {
                    docs.add(Files.readString(p));
                } else if (p.toString().endsWith(".h5")) {
                    try (HdfFile h = new HdfFile(p)) {
                        Attribute a = h.getAttribute("model_config");
                        if (a != null && a.getData() instanceof String text) {
                            docs.add(text);
                        }
                    }
                }
            }
        }
        return docs;
    }

    @Test
    void corpusConfigsParseAsObjectMapperParsesThem() throws IOException {
        List<String> docs = corpusDocuments();
        assertThat(docs).hasSizeGreaterThan(20);
        for (String d : docs) {
            assertThat(JsonTree.parse(d)).isEqualTo(MAPPER.readTree(d));
        }
    }

    @Test
    void numbersKeysAndNestingMatchObjectMapper() throws IOException {
        for (String d : List.of(
                "{\"a\": 1, \"b\": 3000000000, \"c\": 123456789012345678901234567890, \"d\": 1.5e-7, \"e\": -0.0, \"f\": 2.0}",
                "{\"k\": 1, \"k\": [true, false, null, \"x\"]}",
                "{\"deep\": [[[[{\"a\": [[]]}]]], {}], \"s\": \"\\u00e9\\n\\\"q\\\"\"}",
                "[1, {\"a\": {}}, []]",
                "\"just text\"",
                "42")) {
            assertThat(JsonTree.parse(d)).as(d).isEqualTo(MAPPER.readTree(d));
        }
        assertThat(JsonTree.parse("{\"a\": 1, \"a\": 2}").path("a").asInt()).isEqualTo(2);
        assertThat(JsonTree.parse("")).isNull();
    }

    @Test
    void brokenDocumentsAreRefused() {
        for (String d : List.of("{\"a\": [1, 2", "{\"a\": NaN}", "{\"a\" 1}", "[1, 2,, 3]")) {
            assertThatThrownBy(() -> JsonTree.parse(d)).as(d).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> MAPPER.readTree(d)).as(d).isInstanceOf(IOException.class);
        }
    }
}
