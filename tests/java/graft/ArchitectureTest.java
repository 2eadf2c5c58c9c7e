package graft;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The pipeline stays visible: the IR knows no format, no runtime, no command line. */
class ArchitectureTest {
    @Test
    void irImportsNoFormatRuntimeOrCli() throws IOException {
        Pattern forbidden = Pattern.compile("^import (static )?graft\\.(onnx|keras|caffe|cli|runtime|surgery|train|validate|exec)\\b",
                Pattern.MULTILINE);
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> s = Files.walk(TestPaths.root().resolve("src/main/java/graft/ir"))) {
            for (Path p : s.filter(f -> f.toString().endsWith(".java")).toList()) {
                if (forbidden.matcher(Files.readString(p)).find()) {
                    offenders.add(p.getFileName().toString());
                }
            }
        }
        assertThat(offenders).isEmpty();
    }

    @Test
    void formatPackagesDoNotImportEachOther() throws IOException {
        for (String fmt : List.of("onnx", "keras", "caffe")) {
            Path dir = TestPaths.root().resolve("converters/" + fmt + "/java");
            if (!Files.isDirectory(dir)) {
                continue;
            }
            Pattern other = Pattern.compile("^import (static )?graft\\.(?!" + fmt + "\\b)(onnx|keras|caffe|cli)\\b", Pattern.MULTILINE);
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.filter(f -> f.toString().endsWith(".java")).toList()) {
                    assertThat(other.matcher(Files.readString(p)).find()).as(p.toString()).isFalse();
                }
            }
        }
    }
}
