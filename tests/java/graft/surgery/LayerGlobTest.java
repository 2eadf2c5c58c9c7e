package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Layer-name patterns ({@code freeze conv5_*}, {@code block_1?_expand}) match like the JDK's own
 * glob matcher ({@code FileSystems.getDefault().getPathMatcher("glob:...")}, an independent
 * implementation) on 20,000 random patterns and names over an alphabet without its extra syntax;
 * names with regular-expression syntax in them match literally (the fuzzer's regex-injection
 * finding), and a pattern of many stars against a long name answers at once.
 */
class LayerGlobTest {
    @Test
    void matchesLikeTheJdksGlobMatcher() {
        Random r = new Random(7);
        String alphabet = "ab_.1";
        for (int c = 0; c < 20_000; c++) {
            StringBuilder p = new StringBuilder();
            for (int i = r.nextInt(7); i > 0; i--) {
                int k = r.nextInt(alphabet.length() + 2);
                p.append(k == alphabet.length() ? '*' : k == alphabet.length() + 1 ? '?' : alphabet.charAt(k));
            }
            StringBuilder n = new StringBuilder();
            for (int i = 1 + r.nextInt(8); i > 0; i--) {
                n.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            PathMatcher jdk = FileSystems.getDefault().getPathMatcher("glob:" + p);
            assertThat(LayerRange.glob(p.toString(), n.toString())).as("'%s' on '%s'", p, n).isEqualTo(jdk.matches(Path.of(n.toString())));
        }
    }

    @Test
    void regexSyntaxInNamesIsLiteralAndStarsDoNotBacktrack() {
        assertThat(LayerRange.glob("conv(1)+*", "conv(1)+relu")).isTrue();
        assertThat(LayerRange.glob("conv.1*", "convX1relu")).isFalse();
        long t = System.nanoTime();
        assertThat(LayerRange.glob("*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(5000))).isFalse();
        assertThat((System.nanoTime() - t) / 1e9).isLessThan(1.0);
    }
}
