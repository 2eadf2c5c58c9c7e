package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What finetune prints and writes without validation data (--val-fraction 0): no NaN columns in
 * the log, empty CSV cells, JSON null; the caching line says "nothing is frozen" when nothing is;
 * --help documents every training option with its default.
 */
class FinetuneOutputTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    @Test
    void noValidationMeansNoValidationColumns() throws IOException {
        Path dir = TestPaths.scratch("finetune-noval");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 4);
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(), "--epochs", "2",
                "--batch-size", "6", "--val-fraction", "0", "--scale", "1/255");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).doesNotContain("NaN").doesNotContain("val_loss").contains("epoch 2/2  loss ")
                .contains("bottleneck caching: off (nothing is frozen)");
        List<String> csv = Files.readAllLines(out.resolve("history.csv"));
        assertThat(csv.get(1)).doesNotContain("NaN").matches("1,[0-9.]+,[0-9.]+,,,.*");
        String json = Files.readString(out.resolve("history.json"));
        assertThat(json).doesNotContain("NaN").contains("\"val_loss\" : null");
    }

    @Test
    void helpDocumentsEveryTrainingOptionWithItsDefault() {
        Cli.Result h = Cli.run("finetune", "--help");
        for (String o : new String[] {"--lr", "--epochs", "--batch-size", "--momentum", "--device", "--eps", "--val-fraction",
                "--weight-decay"}) {
            List<String> lines = h.out().lines().toList();
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                String t = lines.get(i).trim();
                if (t.startsWith(o + "=") || t.startsWith(o + " ")) {
                    text.append(t);
                    // the description's continuation lines, up to the next option
                    for (int j = i + 1; j < lines.size() && !lines.get(j).trim().startsWith("-") && !lines.get(j).isBlank(); j++) {
                        text.append(' ').append(lines.get(j).trim());
                    }
                    break;
                }
            }
            assertThat(text.toString()).as(o).contains("default:");
        }
        assertThat(h.out()).contains("1e-8").contains("1e-7");
    }
}
