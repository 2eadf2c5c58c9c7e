package graft.io;

import graft.error.MalformedModelException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading models through Git LFS pointers. A model path that holds a pointer (the file Git LFS
 * leaves in the work tree when the object was not checked out, such as after a clone with
 * {@code GIT_LFS_SKIP_SMUDGE=1} and a {@code git lfs fetch}) is read from the object in the
 * enclosing repository's local store, {@code <common git dir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>},
 * once its size and SHA-256 match the pointer's (hashed streaming through a small buffer, the
 * digest cached by {@link FileHash} while the object is unchanged). The repository is found as
 * git finds it: {@code GIT_DIR} when set, else the first {@code .git} folder or {@code .git}
 * file (a linked worktree or submodule: {@code gitdir: ...}) walking up from the pointer's
 * folder, and its {@code commondir} for a linked worktree.
 *
 * <p>{@code --no-lfs} ({@link #enabled(boolean)}) keeps the refusal graft always gave for a
 * pointer. A missing object, or one whose size or SHA-256 differs, is refused (exit 3) with the
 * {@code git lfs pull --include=PATH} that fetches it. Also the pointer text Git LFS would store
 * for a file ({@code graft lfs-pointer}) and the check of a file against a pointer
 * ({@code graft lfs-verify}).
 */
public final class GitLfs {
    private static final String SPEC = "https://git-lfs.github.com/spec/v1";
    private static final Pattern OID = Pattern.compile("(?m)^oid sha256:([0-9a-f]{64})$");
    private static final Pattern SIZE = Pattern.compile("(?m)^size (0|[1-9][0-9]{0,18})$");

    private static volatile boolean enabled = true;
    private static volatile PrintWriter notices = new PrintWriter(System.err, true);
    private static final Set<Path> NOTICED = ConcurrentHashMap.newKeySet();
    private static final Map<String, String> HASHED = new ConcurrentHashMap<>();

    private GitLfs() {
    }

    /** A pointer's object id (SHA-256, lower-case hex) and size in bytes. */
    public record Pointer(String oid, long size) {
        /** The pointer file's text exactly as {@code git lfs pointer --file} prints it. */
        public String text() {
            return "version " + SPEC + "\noid sha256:" + oid + "\nsize " + size + "\n";
        }
    }

    /** Whether pointers are read through (true unless {@code --no-lfs}); called once per command, it forgets the notices printed and objects hashed. */
    public static void enabled(boolean on) {
        enabled = on;
        NOTICED.clear();
        HASHED.clear();
    }

    /** Where the one-line notice "reading LFS object ..." goes (the command's stderr). */
    public static void notices(PrintWriter err) {
        notices = err;
    }

    /** Whether {@code head} (a file's first bytes) starts as a Git LFS pointer does. */
    public static boolean looksLikePointer(byte[] head) {
        String s = new String(head, 0, Math.min(head.length, 64), StandardCharsets.ISO_8859_1);
        return s.startsWith("version https://git-lfs.github.com/spec/") || s.startsWith("version https://hawser.github.com/spec/");
    }

    /** The pointer in {@code text}, or null when it names no SHA-256 oid and size. */
    public static Pointer parse(byte[] text) {
        if (!looksLikePointer(text)) {
            return null;
        }
        String s = new String(text, StandardCharsets.ISO_8859_1);
        Matcher oid = OID.matcher(s);
        Matcher size = SIZE.matcher(s);
        if (!oid.find() || !size.find()) {
            return null;
        }
        return new Pointer(oid.group(1), Long.parseLong(size.group(1)));
    }

    /** The pointer Git LFS stores for {@code file}'s bytes (streamed SHA-256, no cache). */
    public static Pointer pointerOf(Path file) {
        try {
            return new Pointer(FileHash.compute(file), Files.size(file));
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
        }
    }

    /**
     * The file holding {@code pointerFile}'s bytes: its verified LFS object. {@code head} is the
     * whole pointer file. Throws {@link GitLfsPointerException} (exit 3) when LFS reading is off,
     * the object is missing or it does not match the pointer.
     */
    static Path object(Path pointerFile, byte[] head) {
        Pointer p = parse(head);
        String described = p == null ? "malformed: no sha256 oid and size" : "oid sha256:" + p.oid() + ", size " + p.size();
        if (!enabled || p == null) {
            throw new GitLfsPointerException(pointerFile, "'" + pointerFile + "' is a Git LFS pointer (" + described
                    + "), not the model: run git lfs pull");
        }
        Repo repo = repo(pointerFile);
        if (repo == null) {
            throw new GitLfsPointerException(pointerFile, "'" + pointerFile + "' is a Git LFS pointer (" + described
                    + ") outside any git repository, so graft finds no LFS store to read it from: run git lfs pull in the repository it came from");
        }
        String include = repo.relative(pointerFile);
        Path obj = repo.commonDir.resolve("lfs").resolve("objects").resolve(p.oid().substring(0, 2)).resolve(p.oid().substring(2, 4)).resolve(p.oid());
        if (!Files.isRegularFile(obj)) {
            throw new GitLfsPointerException(pointerFile, "'" + pointerFile + "' is a Git LFS pointer (" + described
                    + ") and its object is not in the local LFS store (" + obj + "): run git lfs pull --include=" + include);
        }
        long have;
        try {
            have = Files.size(obj);
        } catch (IOException e) {
            throw new GitLfsPointerException(pointerFile, "'" + pointerFile + "': its LFS object " + obj + " cannot be read ("
                    + e.getMessage() + "): run git lfs pull --include=" + include);
        }
        if (have != p.size()) {
            throw new GitLfsPointerException(pointerFile, "'" + pointerFile + "' is a Git LFS pointer whose local object " + obj + " has "
                    + have + " bytes, the pointer says " + p.size() + ": delete the object and run git lfs pull --include=" + include);
        }
        String sha = verifiedSha(obj);
        if (!sha.equals(p.oid())) {
            throw new GitLfsPointerException(pointerFile, "'" + pointerFile + "' is a Git LFS pointer whose local object " + obj
                    + " fails its SHA-256 check (the object hashes to sha256:" + sha + ", the pointer says sha256:" + p.oid()
                    + "): delete the object and run git lfs pull --include=" + include);
        }
        if (NOTICED.add(pointerFile.toAbsolutePath().normalize())) {
            PrintWriter err = notices;
            err.println("graft: notice: reading LFS object " + obj + " for '" + pointerFile + "' (not checked out)");
            err.flush();
        }
        return obj;
    }

    /**
     * The verified object of the pointer file {@code pointerFile} in its repository's local LFS
     * store (as a model path is read through), or a {@link GitLfsPointerException} naming what is
     * wrong: not a pointer, no repository, object missing, size or SHA-256 differs.
     */
    public static Path verifiedObject(Path pointerFile) {
        return object(pointerFile, pointerBytes(pointerFile));
    }

    /** The pointer in the file {@code pointerFile}; exit 3 when it cannot be read or is no pointer. */
    public static Pointer readPointer(Path pointerFile) {
        return parse(pointerBytes(pointerFile));
    }

    /**
     * Why {@code file} does not match {@code p} (sizes and SHA-256s named), or null when it does
     * (the hash streamed, as {@link #pointerOf} computes it).
     */
    public static String mismatch(Path file, Pointer p) {
        Pointer have = pointerOf(file);
        if (have.equals(p)) {
            return null;
        }
        return (have.size() != p.size() ? "it has " + have.size() + " bytes, the pointer says " + p.size() + "; " : "")
                + "it hashes to sha256:" + have.oid() + ", the pointer says sha256:" + p.oid();
    }

    /** A pointer file's bytes (a pointer is under 1024 bytes), checked to parse as one. */
    private static byte[] pointerBytes(Path pointerFile) {
        byte[] head;
        try (java.io.InputStream in = Files.newInputStream(pointerFile)) {
            head = in.readNBytes(1024);
        } catch (IOException e) {
            throw new MalformedModelException(pointerFile, "cannot be read: " + e.getMessage());
        }
        if (parse(head) == null) {
            throw new MalformedModelException(pointerFile, "is not a Git LFS pointer (no 'version https://git-lfs.github.com/spec/v1', 'oid sha256:' and 'size' lines)");
        }
        return head;
    }

    /** Hashes each object once per process while its size and modification time stay the same. */
    private static String verifiedSha(Path obj) {
        String key;
        try {
            key = obj.toAbsolutePath().normalize() + "\0" + Files.size(obj) + "\0" + Files.getLastModifiedTime(obj).toMillis();
        } catch (IOException e) {
            return FileHash.sha256(obj);
        }
        return HASHED.computeIfAbsent(key, k -> FileHash.sha256(obj));
    }

    /** A repository: its git dir's common dir (where lfs/ lives) and its work tree (null when unknown). */
    private record Repo(Path commonDir, Path workTree) {
        String relative(Path file) {
            Path abs = file.toAbsolutePath().normalize();
            Path rel = workTree != null && abs.startsWith(workTree) ? workTree.relativize(abs) : abs.getFileName();
            return rel.toString().replace('\\', '/');
        }
    }

    private static Repo repo(Path file) {
        String gitDirEnv = System.getenv("GIT_DIR");
        if (gitDirEnv != null && !gitDirEnv.isEmpty()) {
            Path gitDir = Path.of(gitDirEnv).toAbsolutePath().normalize();
            String wt = System.getenv("GIT_WORK_TREE");
            Path workTree = wt != null && !wt.isEmpty() ? Path.of(wt).toAbsolutePath().normalize() : Path.of("").toAbsolutePath();
            return new Repo(commonDir(gitDir), workTree);
        }
        Repo r = walkUp(file.toAbsolutePath().normalize().getParent());
        // a pointer outside any repository: the blob git hands a diff driver's textconv as a temporary
        // file; its object is in the repository git runs in (the current directory)
        return r != null ? r : walkUp(Path.of("").toAbsolutePath());
    }

    private static Repo walkUp(Path start) {
        Path dir = start;
        while (dir != null) {
            Path dotGit = dir.resolve(".git");
            if (Files.isDirectory(dotGit)) {
                return new Repo(commonDir(dotGit), dir);
            }
            if (Files.isRegularFile(dotGit)) {
                try {
                    String s = Files.readString(dotGit, StandardCharsets.UTF_8).trim();
                    if (s.startsWith("gitdir:")) {
                        Path gitDir = dir.resolve(s.substring("gitdir:".length()).trim()).normalize();
                        return new Repo(commonDir(gitDir), dir);
                    }
                } catch (IOException e) {
                    return null;
                }
            }
            dir = dir.getParent();
        }
        return null;
    }

    /** A linked worktree's git dir names the main one's in its {@code commondir} file. */
    private static Path commonDir(Path gitDir) {
        Path f = gitDir.resolve("commondir");
        if (Files.isRegularFile(f)) {
            try {
                return gitDir.resolve(Files.readString(f, StandardCharsets.UTF_8).trim()).normalize();
            } catch (IOException e) {
                return gitDir;
            }
        }
        return gitDir;
    }

    /** SHA-256 of bytes, lower-case hex. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
