package graft.validate;

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

/** The reference executor and validation know the IR only: every format graft reads is compared the same way. */
class FormatFreeTest {
    @Test
    void execAndValidateImportNoFormatOrCommandLine() throws IOException {
        Pattern forbidden = Pattern.compile("^import (static )?graft\\.(onnx|keras|caffe|cli|surgery|train)\\b", Pattern.MULTILINE);
        List<String> offenders = new ArrayList<>();
        for (String pkg : List.of("exec", "validate")) {
            try (Stream<Path> s = Files.walk(TestPaths.root().resolve("src/main/java/graft/" + pkg))) {
                for (Path p : s.filter(f -> f.toString().endsWith(".java")).toList()) {
                    if (forbidden.matcher(Files.readString(p)).find()) {
                        offenders.add(p.getFileName().toString());
                    }
                }
            }
        }
        assertThat(offenders).isEmpty();
    }
}
