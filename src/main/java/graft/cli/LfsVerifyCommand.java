package graft.cli;

import graft.error.ExitCodes;
import graft.error.MalformedModelException;
import graft.io.GitLfs;
import graft.io.GitLfsPointerException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "lfs-verify", mixinStandardHelpOptions = true,
        description = {"Check a file against a Git LFS pointer: exit 0 when its size and SHA-256 are the pointer's, 1 when not. "
                + "Without FILE, checks the pointer's object in the enclosing repository's local LFS store "
                + "(.git/lfs/objects), as graft does before reading through a pointer. Exit 3 when POINTER is not a pointer."},
        footer = {"", "Examples:", "  graft lfs-verify vgg16.h5.pointer vgg16.h5", "  graft lfs-verify models/vgg16.h5   (a pointer in a clone made with GIT_LFS_SKIP_SMUDGE=1)"})
final class LfsVerifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POINTER", description = "A Git LFS pointer file.")
    Path pointer;

    @Parameters(index = "1", arity = "0..1", paramLabel = "FILE", description = "The file to check (default: the pointer's object in the local LFS store).")
    Path file;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (file == null) {
            GitLfs.notices(new PrintWriter(java.io.Writer.nullWriter()));
            try {
                Path obj = GitLfs.verifiedObject(pointer);
                out.println("ok: the local LFS object " + obj + " matches '" + pointer + "'");
                out.flush();
                return ExitCodes.OK;
            } catch (GitLfsPointerException e) {
                err.println("graft: " + e.getMessage());
                err.flush();
                return ExitCodes.VALIDATION_FAILED;
            }
        }
        GitLfs.Pointer p = GitLfs.readPointer(pointer);
        if (!Files.isRegularFile(file)) {
            throw new MalformedModelException(file, Files.exists(file) ? "is not a regular file" : "does not exist");
        }
        String why = GitLfs.mismatch(file, p);
        if (why == null) {
            out.println("ok: '" + file + "' matches '" + pointer + "' (sha256:" + p.oid() + ", " + p.size() + " bytes)");
            out.flush();
            return ExitCodes.OK;
        }
        err.println("graft: '" + file + "' does not match the pointer '" + pointer + "': " + why);
        err.flush();
        return ExitCodes.VALIDATION_FAILED;
    }
}
