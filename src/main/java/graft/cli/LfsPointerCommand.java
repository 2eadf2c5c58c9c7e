package graft.cli;

import graft.io.GitLfs;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "lfs-pointer", mixinStandardHelpOptions = true,
        description = {"Print the pointer Git LFS would store for a file (version, oid sha256, size): "
                + "the same text as `git lfs pointer --file FILE`, without git. Streams the file through SHA-256."},
        footer = {"", "Examples:", "  graft lfs-pointer vgg16.h5", "  graft lfs-pointer vgg16.h5 > vgg16.h5.pointer"})
final class LfsPointerCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "Any file (a model, usually).")
    Path file;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(file)) {
            throw new graft.error.MalformedModelException(file, Files.exists(file) ? "is not a regular file" : "does not exist");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(GitLfs.pointerOf(file).text());
        out.flush();
        return 0;
    }
}
