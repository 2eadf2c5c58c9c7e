package graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.EnvironmentException;
import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The training state after an epoch, in {@code OUT/checkpoint/}: one {@code .npy} per carried
 * tensor (parameters and optimizer state) and {@code checkpoint.json} naming them with the
 * epoch. Written to a sibling temporary folder and renamed into place, so an interrupted run
 * always finds the last complete epoch.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {
    }

    /**
     * {@code settings}: the run's hyper-parameters as a user would name them (optimizer,
     * schedule, batch size, seed...); empty for a checkpoint written before they were recorded.
     */
    public record Saved(int epoch, Map<String, float[]> tensors, Map<String, String> settings) {
    }

    public static void save(Path out, int epoch, Map<String, float[]> tensors, Map<String, String> settings) {
        Path tmp = out.resolve("checkpoint.tmp");
        Path dst = out.resolve("checkpoint");
        Path old = out.resolve("checkpoint.old");
        try {
            delete(tmp);
            Files.createDirectories(tmp);
            ObjectNode root = JSON.createObjectNode();
            root.put("epoch", epoch);
            ObjectNode set = root.putObject("settings");
            settings.forEach(set::put);
            ObjectNode names = root.putObject("tensors");
            int i = 0;
            for (var e : tensors.entrySet()) {
                String file = String.format("t%04d.npy", i++);
                float[] v = e.getValue();
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                Npy.write(tmp.resolve(file), DataType.FLOAT, new long[] {v.length}, b, true);
                names.put(e.getKey(), file);
            }
            Files.write(tmp.resolve("checkpoint.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
            // the previous checkpoint stays complete under checkpoint.old until the new one is in place
            delete(old);
            if (Files.exists(dst)) {
                Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
            delete(old);
        } catch (IOException e) {
            throw new EnvironmentException("checkpoint in '" + out + "': cannot be written: " + e.getMessage(), e);
        }
    }

    /** The last complete checkpoint, or null when there is none. */
    public static Saved load(Path out) {
        Path dir = out.resolve("checkpoint");
        if (!Files.exists(dir.resolve("checkpoint.json"))) {
            // interrupted between moving the last one aside and putting the new one in place
            dir = out.resolve("checkpoint.old");
        }
        Path meta = dir.resolve("checkpoint.json");
        if (!Files.exists(meta)) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(meta.toFile());
            Map<String, float[]> t = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = root.path("tensors").fields();
            while (it.hasNext()) {
                var e = it.next();
                t.put(e.getKey(), Npy.read(dir.resolve(e.getValue().asText())).toFloats());
            }
            Map<String, String> settings = new LinkedHashMap<>();
            root.path("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
            return new Saved(root.path("epoch").asInt(), t, settings);
        } catch (IOException | RuntimeException e) {
            throw new UsageException("--resume: checkpoint '" + dir + "' is unreadable: " + e.getMessage()
                    + ". Start without --resume");
        }
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
