package graft.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The oracle runner must not deadlock on a chatty oracle: a script that fills the stderr pipe (1 MB,
 * far past the 64 KB a pipe holds) before it writes its result, as TensorFlow and torch warnings
 * do. Before the fix Python.run read all of stdout first, the script blocked writing stderr, and
 * the test hung until the surefire timeout. A script that runs past its limit is killed.
 */
class PythonRunTest {
    @Test
    @Timeout(120)
    void aScriptThatWritesAMegabyteToStderrBeforeItsResultDoesNotHang() throws IOException {
        Path script = TestPaths.scratch("python-run").resolve("chatty.py");
        Files.writeString(script, "import sys\nsys.stderr.write('w' * (1 << 20))\nsys.stderr.flush()\nprint('result 42')\n");
        assertThat(Python.run(script).strip()).isEqualTo("result 42");
    }

    @Test
    @Timeout(120)
    void aScriptPastItsLimitIsKilledWithAClearFailure() throws IOException {
        Path script = TestPaths.scratch("python-run").resolve("slow.py");
        Files.writeString(script, "import sys, time\nsys.stderr.write('started\\n')\nsys.stderr.flush()\ntime.sleep(600)\n");
        assertThatThrownBy(() -> Python.run(3, TimeUnit.SECONDS, script))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("was killed").hasMessageContaining("started");
    }
}
