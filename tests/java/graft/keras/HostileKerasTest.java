package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Broken and hostile Keras files from fixtures/keras/make_hostile.py: each gets one line naming
 * the file and the fault, exit code 3, no stack trace, and no output file (not even a temporary
 * one). The Lambda case must list every unsupported layer; the zip slip entry is never extracted.
 */
class HostileKerasTest {
    @Test
    void everyHostileFileIsRefusedWithOneLineAndExitCode3() throws IOException {
        Path cases = TestPaths.root().resolve("target/keras-hostile");
        if (!Files.exists(cases.resolve("zip_slip.keras"))) {
            Python.run(TestPaths.fixtures().resolve("keras/make_hostile.py"), cases.toString());
        }
        Path out = TestPaths.scratch("keras-hostile-out");
        List<Path> files;
        try (Stream<Path> s = Files.list(cases)) {
            files = s.sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(16);
        List<String> lines = new ArrayList<>();
        for (Path f : files) {
            Path target = out.resolve(f.getFileName() + ".onnx");
            Cli.Result r = Cli.run("convert", f.toString(), target.toString());
            String err = r.err().strip();
            assertThat(r.code()).as(f.getFileName() + ": " + err).isEqualTo(3);
            assertThat(err).as(f.getFileName().toString()).doesNotContain("\n").doesNotContain("\tat ").doesNotContain("Exception")
                    .contains(f.getFileName().toString());
            assertThat(target).doesNotExist();
            lines.add(f.getFileName() + ": " + err);
        }
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.toList()).as("no partial or temporary output").isEmpty();
        }
        assertThat(Files.exists(cases.getParent().resolve("escape.txt"))).isFalse();
        lines.forEach(System.out::println);
        String all = String.join("\n", lines);
        assertThat(all).contains("lambda_and_friends.h5: graft: model").contains("lambda_1 (Lambda)").contains("conv3d_1 (Conv3D)")
                .contains("lambda_2 (Lambda)");
        assertThat(all).contains("lfs_pointer.h5' is a Git LFS pointer");
        assertThat(all).contains("zip slip");
        assertThat(all).contains("wrong_kernel_shape.h5").contains("has shape [3, 3, 3, 4]");
        assertThat(all).contains("missing_dataset.h5").contains("dataset is missing");
    }
}
