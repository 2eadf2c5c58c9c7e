package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.Git;
import graft.testing.TestPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 18, items 2-4, with the real {@code git} and {@code git-lfs} (Debian packages) and a local
 * bare remote: {@code lfs-pointer} against {@code git lfs pointer --file} on every corpus file,
 * {@code lfs-verify}; {@code init-git} (idempotent) and the {@code git diff} its driver shows after
 * a surgery (the removed and added layers, the frozen ones, and nothing else) and after a no-op
 * re-save (nothing); saving the same model twice, and re-saving a saved model, in ONNX, Keras
 * {@code .h5} and Caffe gives the same LFS oid, so {@code git lfs push} uploads no object.
 */
class LfsGitTest {
    /** graft as git runs it for the textconv: this test's own classes in a forked JVM (not the launcher, which may rebuild). */
    private static String textconvCommand() {
        return Path.of(System.getProperty("java.home"), "bin", "java") + " -cp " + System.getProperty("java.class.path")
                + " graft.cli.Main inspect --textconv";
    }

    private static List<Path> corpusFiles() throws Exception {
        try (Stream<Path> s = Files.walk(TestPaths.corpus())) {
            return s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void lfsPointerIsWhatGitLfsStoresForEveryCorpusFile() throws Exception {
        Path scratch = TestPaths.scratch("lfs-pointer");
        Git git = new Git(scratch);
        List<Path> files = corpusFiles();
        assertThat(files).hasSizeGreaterThan(40);
        for (Path f : files) {
            Cli.Result r = Cli.run("lfs-pointer", f.toString());
            assertThat(r.code()).as(f + ": " + r.err()).isZero();
            Git.Out o = git.run(scratch, Map.of(), "lfs", "pointer", "--file", f.toString());
            assertThat(o.code()).as(o.err()).isZero();
            assertThat(r.out()).as(f.toString()).isEqualTo(o.out());
        }
        System.out.println("lfs-pointer equals git lfs pointer --file on " + files.size() + " corpus files");

        // lfs-verify: the file against its pointer (0), one flipped byte (1), a model that is no pointer (3)
        Path model = TestPaths.corpus().resolve("onnx/output_cnn_mnist.onnx");
        Path pointer = scratch.resolve("m.pointer");
        Files.writeString(pointer, Cli.run("lfs-pointer", model.toString()).out(), StandardCharsets.UTF_8);
        Cli.Result ok = Cli.run("lfs-verify", pointer.toString(), model.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("ok: ");
        byte[] b = Files.readAllBytes(model);
        b[b.length / 3] ^= 0x10;
        Path flipped = scratch.resolve("flipped.onnx");
        Files.write(flipped, b);
        Cli.Result bad = Cli.run("lfs-verify", pointer.toString(), flipped.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err().strip()).doesNotContain("\n").contains("does not match the pointer").contains("hashes to sha256:");
        Cli.Result notPointer = Cli.run("lfs-verify", model.toString(), model.toString());
        assertThat(notPointer.code()).isEqualTo(3);
        assertThat(notPointer.err().strip()).doesNotContain("\n").contains("is not a Git LFS pointer");
    }

    @Test
    void lfsVerifyChecksAPointersLocalObject() throws Exception {
        Path scratch = TestPaths.scratch("lfs-verify");
        Git git = new Git(scratch);
        Path work = git.newRepo(scratch, "*.onnx");
        Files.copy(TestPaths.fixtures().resolve("onnx/small_vgg.onnx"), work.resolve("m.onnx"));
        git.git(work, "add", ".");
        git.git(work, "commit", "-q", "-m", "m");
        git.git(work, "push", "-q", "origin", "main");
        Path clone = git.pointerClone(scratch, "clone");
        Cli.Result r = Cli.run("lfs-verify", clone.resolve("m.onnx").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("ok: the local LFS object " + clone.resolve(".git/lfs/objects"));
        String oid = Files.readString(clone.resolve("m.onnx")).lines().filter(l -> l.startsWith("oid sha256:")).findFirst().orElseThrow().substring(11);
        Files.delete(clone.resolve(".git/lfs/objects").resolve(oid.substring(0, 2)).resolve(oid.substring(2, 4)).resolve(oid));
        Cli.Result missing = Cli.run("lfs-verify", clone.resolve("m.onnx").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("is not in the local LFS store").contains("git lfs pull --include=m.onnx");
    }

    @Test
    void gitDiffShowsTheSurgeryAndNothingElseAndANoOpResaveShowsNothing() throws Exception {
        Path scratch = TestPaths.scratch("lfs-git-diff");
        Git git = new Git(scratch);
        Path work = git.newRepo(scratch);
        Cli.Result init = Cli.run("init-git", "--repo", work.toString(), "--textconv", textconvCommand());
        assertThat(init.code()).as(init.err()).isZero();
        assertThat(init.out()).contains("added to .gitattributes: *.onnx filter=lfs diff=graft merge=lfs -text")
                .contains("set git config diff.graft.textconv = ");
        assertThat(Files.readAllLines(work.resolve(".gitattributes"))).containsExactly(
                "*.onnx filter=lfs diff=graft merge=lfs -text", "*.h5 filter=lfs diff=graft merge=lfs -text",
                "*.keras filter=lfs diff=graft merge=lfs -text", "*.caffemodel filter=lfs diff=graft merge=lfs -text");
        Cli.Result again = Cli.run("init-git", "--repo", work.toString(), "--textconv", textconvCommand());
        assertThat(again.code()).isZero();
        assertThat(again.out().strip()).startsWith("nothing to change");
        assertThat(git.git(work, "config", "--local", "--get", "diff.graft.textconv").strip()).isEqualTo(textconvCommand());

        Path model = work.resolve("model.onnx");
        Files.copy(TestPaths.fixtures().resolve("surgery/vgg16_mini.onnx"), model);
        git.git(work, "add", ".");
        git.git(work, "commit", "-q", "-m", "vgg16 mini");
        assertThat(git.git(work, "lfs", "ls-files")).contains("model.onnx");

        Path edited = scratch.resolve("edited.onnx");
        Cli.Result s = Cli.run("surgery", model.toString(), "--edit", "pop 3", "--edit", "attach-head dense 256 relu, dense 5 softmax",
                "--edit", "freeze ..block4_pool", "-o", edited.toString());
        assertThat(s.code()).as(s.err()).isZero();
        Files.move(edited, model, StandardCopyOption.REPLACE_EXISTING);
        git.git(work, "commit", "-q", "-am", "pop 3, new head, freeze ..block4_pool");
        String diff = git.git(work, "diff", "HEAD~1", "--", "model.onnx");
        System.out.println(diff);
        List<String> minus = new ArrayList<>();
        List<String> plus = new ArrayList<>();
        for (String line : diff.split("\n")) {
            if (line.startsWith("-") && !line.startsWith("---")) {
                minus.add(line.substring(1));
            } else if (line.startsWith("+") && !line.startsWith("+++")) {
                plus.add(line.substring(1));
            }
        }
        Set<String> removed = Set.of("fc1", "fc2", "predictions");
        Set<String> added = Set.of("dense", "dense_1");
        Set<String> frozen = Set.of("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
                "block3_conv3", "block4_conv1", "block4_conv2", "block4_conv3");
        for (String l : removed) {
            assertThat(minus).as("removed layer " + l).anyMatch(x -> x.startsWith("layer " + l + ": Gemm"));
            assertThat(minus).as("removed weights of " + l).anyMatch(x -> x.startsWith("  weight " + l + "_W float"));
            assertThat(plus).noneMatch(x -> x.startsWith("layer " + l + ":"));
        }
        for (String l : added) {
            assertThat(plus).as("added layer " + l).anyMatch(x -> x.startsWith("layer " + l + ": Gemm"));
            assertThat(plus).as("added weights of " + l).anyMatch(x -> x.startsWith("  weight " + l + "_W float"));
        }
        for (String l : frozen) {
            assertThat(minus).as(l + " was trainable").anyMatch(x -> x.startsWith("layer " + l + ": ") && x.endsWith("; trainable"));
            assertThat(plus).as(l + " is frozen").anyMatch(x -> x.startsWith("layer " + l + ": ") && x.endsWith("; frozen"));
        }
        // nothing else: every changed line is one of those layers or their weights, the new output, the opset, the edit history
        List<String> unexplained = new ArrayList<>();
        for (String x : concat(minus, plus)) {
            boolean explained = x.startsWith("output ") || x.startsWith("opsets ") || x.startsWith("metadata graft.edits = ")
                    || x.startsWith("metadata graft.version = ");
            for (String l : concat(List.copyOf(removed), List.copyOf(added))) {
                explained |= x.startsWith("layer " + l + ":") || x.startsWith("  weight " + l + "_");
            }
            for (String l : frozen) {
                explained |= x.startsWith("layer " + l + ":");
            }
            if (!explained) {
                unexplained.add(x);
            }
        }
        assertThat(unexplained).as("changed lines the surgery does not explain").isEmpty();
        // the frozen layers' weights did not change, so their weight lines are not in the diff
        assertThat(concat(minus, plus)).noneMatch(x -> x.startsWith("  weight block"));

        // a no-op re-save: graft reads its own file and writes it again
        Path resaved = scratch.resolve("resaved.onnx");
        Cli.Result c = Cli.run("convert", model.toString(), resaved.toString());
        assertThat(c.code()).as(c.err()).isZero();
        Files.move(resaved, model, StandardCopyOption.REPLACE_EXISTING);
        assertThat(git.git(work, "status", "--porcelain")).isEmpty();
        assertThat(git.git(work, "diff", "--", "model.onnx")).isEmpty();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /** One written model: its files (a Caffe model is two). */
    private record Saved(String format, List<Path> files) {
    }

    private static Saved save(Path source, Path dir, String ext) {
        Path out = dir.resolve("model." + ext);
        Cli.Result r = Cli.run("convert", source.toString(), out.toString());
        assertThat(r.code()).as(source + " -> " + ext + ": " + r.err()).isZero();
        List<Path> files = ext.equals("prototxt") ? List.of(out, dir.resolve("model.caffemodel")) : List.of(out);
        return new Saved(ext, files);
    }

    private static String oid(Git git, Path dir, Path file) {
        return git.git(dir, "lfs", "pointer", "--file", file.toString()).lines().filter(l -> l.startsWith("oid sha256:")).findFirst()
                .orElseThrow();
    }

    @Test
    void savingTheSameModelTwiceGivesTheSameObjectAndPushUploadsNothing() throws Exception {
        Path scratch = TestPaths.scratch("lfs-resave");
        Git git = new Git(scratch);
        Path source = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Path work = git.newRepo(scratch);
        assertThat(Cli.run("init-git", "--repo", work.toString(), "--textconv", textconvCommand()).code()).isZero();
        for (String ext : List.of("onnx", "h5", "keras", "prototxt")) {
            Path a = Files.createDirectories(scratch.resolve("a-" + ext));
            Path b = Files.createDirectories(scratch.resolve("b-" + ext));
            Saved first = save(source, a, ext);
            Thread.sleep(1100); // a timestamp in seconds would differ now
            Saved second = save(source, b, ext);
            // and a re-save of the saved file in its own format (the Caffe one through its prototxt and caffemodel)
            Path c = Files.createDirectories(scratch.resolve("c-" + ext));
            Path out = c.resolve("model." + ext);
            List<String> args = new ArrayList<>(List.of("convert", first.files().get(0).toString(), out.toString()));
            if (ext.equals("prototxt")) {
                args.addAll(List.of("--weights", first.files().get(1).toString()));
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertThat(r.code()).as(r.err()).isZero();
            Saved third = new Saved(ext, ext.equals("prototxt") ? List.of(out, c.resolve("model.caffemodel")) : List.of(out));
            for (int i = 0; i < first.files().size(); i++) {
                String o1 = oid(git, scratch, first.files().get(i));
                assertThat(oid(git, scratch, second.files().get(i))).as(ext + ": saved twice").isEqualTo(o1);
                assertThat(oid(git, scratch, third.files().get(i))).as(ext + ": re-saved from the saved file").isEqualTo(o1);
            }
            for (Path f : first.files()) {
                Files.copy(f, work.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
            System.out.println(ext + ": the same oid saved twice and re-saved: " + oid(git, scratch, first.files().get(first.files().size() - 1)));
        }
        git.git(work, "add", ".");
        git.git(work, "commit", "-q", "-m", "models");
        git.git(work, "push", "-q", "origin", "main");
        Path remoteObjects = scratch.resolve("remote.git/lfs/objects");
        long before = countFiles(remoteObjects);
        assertThat(before).isEqualTo(4); // model.onnx, model.h5, model.keras, model.caffemodel

        // re-save every model over itself, from its own bytes
        for (String ext : List.of("onnx", "h5", "prototxt")) {
            Path tmp = Files.createDirectories(scratch.resolve("tmp-" + ext));
            List<String> args = new ArrayList<>(List.of("convert", work.resolve("model." + ext).toString(), tmp.resolve("model." + ext).toString()));
            if (ext.equals("prototxt")) {
                args.addAll(List.of("--weights", work.resolve("model.caffemodel").toString()));
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertThat(r.code()).as(r.err()).isZero();
            try (Stream<Path> s = Files.list(tmp)) {
                for (Path f : s.collect(Collectors.toList())) {
                    Files.move(f, work.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        assertThat(git.git(work, "status", "--porcelain")).as("re-saved files are byte-identical").isEmpty();
        git.git(work, "commit", "-q", "--allow-empty", "-m", "re-saved");
        assertThat(git.git(work, "lfs", "push", "--dry-run", "origin", "main")).as("objects git lfs push would upload").isEmpty();
        Git.Out push = git.run(work, Map.of(), "lfs", "push", "origin", "main");
        assertThat(push.code()).as(push.err()).isZero();
        assertThat(countFiles(remoteObjects)).isEqualTo(before);
        System.out.println("git lfs push after the re-save: '" + (push.out() + push.err()).strip() + "', remote objects " + before + " -> "
                + countFiles(remoteObjects));
    }

    @Test
    void finetuneOnAPointerPathTrainsAsOnTheFile() throws Exception {
        Path torch = TestPaths.root().resolve("target/fixtures/train/torch_steps");
        if (!Files.exists(torch.resolve("adam/loss.txt"))) {
            graft.testing.Python.run(TestPaths.fixtures().resolve("train/torch_steps.py"), torch.toString());
        }
        Path scratch = TestPaths.scratch("lfs-finetune");
        Git git = new Git(scratch);
        Path work = git.newRepo(scratch, "*.onnx");
        Files.copy(torch.resolve("model.onnx"), work.resolve("cnn.onnx"));
        git.git(work, "add", ".");
        git.git(work, "commit", "-q", "-m", "cnn");
        git.git(work, "push", "-q", "origin", "main");
        Path clone = git.pointerClone(scratch, "clone");
        assertThat(Files.size(clone.resolve("cnn.onnx"))).isLessThan(200);
        Path data = FinetuneCommandTest.images(scratch.resolve("data"), 6);
        List<String> losses = new ArrayList<>();
        for (Path model : List.of(work.resolve("cnn.onnx"), clone.resolve("cnn.onnx"))) {
            Path out = scratch.resolve(model.startsWith(clone) ? "run-pointer" : "run-file");
            Cli.Result r = Cli.run("finetune", model.toString(), data.toString(), "-o", out.toString(), "--epochs", "2", "--batch-size", "6",
                    "--optimizer", "sgd", "--lr", "0.01", "--seed", "3");
            assertThat(r.code()).as(model + ": " + r.out() + r.err()).isZero();
            assertThat(out.resolve("model.onnx")).exists();
            List<String> rows = Files.readAllLines(out.resolve("history.csv"));
            assertThat(rows).hasSize(3);
            losses.add(rows.get(1).split(",")[1] + " " + rows.get(2).split(",")[1]);
            if (model.startsWith(clone)) {
                assertThat(r.err()).contains("reading LFS object");
            }
        }
        // the same bytes, seed and data: the same per-epoch losses as printed (one thread order, CPU)
        assertThat(losses.get(1)).isEqualTo(losses.get(0));
        System.out.println("finetune losses on the file and through the pointer: " + losses);
    }

    private static long countFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }
}
