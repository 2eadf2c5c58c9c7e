package graft.spark;

import graft.data.ImageFolder;
import graft.error.UsageException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * An image folder (one subfolder per class, as {@link ImageFolder} reads it) as Spark's
 * {@code binaryFile} rows: the files of DATA/CLASS/ whose names {@link ImageFolder#isImage}
 * takes, the class being the parent folder's name and the label its index among the class
 * folders sorted by name, as on one machine.
 */
final class ImageRows {
    private ImageRows() {
    }

    /** The folder the images are read from: DATA, or DATA/train when DATA splits into train/ and val/ (as single-machine features reads it). */
    static Path root(Path data) {
        Path train = data.resolve("train");
        boolean split = Files.isDirectory(train) && (Files.isDirectory(data.resolve("val")) || Files.isDirectory(data.resolve("validation")));
        return split ? train : data;
    }

    /**
     * The class names of a local image folder, checked as {@link ImageFolder} checks them (no class
     * folders, or a class folder without images: one line naming it).
     */
    static List<String> classes(Path root) {
        List<String> names = new ArrayList<>();
        for (Path d : ImageFolder.classFolders(root)) {
            try (var s = Files.list(d)) {
                if (s.noneMatch(p -> ImageFolder.isImage(p.getFileName().toString()))) {
                    throw new UsageException("class folder '" + d + "': holds no JPEG or PNG image. Remove it or add images");
                }
            } catch (java.io.IOException e) {
                throw new UsageException("class folder '" + d + "': cannot be listed: " + e.getMessage());
            }
            names.add(d.getFileName().toString());
        }
        return names;
    }

    /** The class folder names of {@code images} (binaryFile rows): the parents of their paths, sorted. */
    static List<String> classes(Dataset<Row> images) {
        List<String> r = new ArrayList<>();
        for (Row row : images.select("path").collectAsList()) {
            String c = parent(row.getString(0));
            if (!r.contains(c)) {
                r.add(c);
            }
        }
        r.sort(Comparator.naturalOrder());
        return r;
    }

    /** binaryFile rows of the images of DATA/CLASS/ (not deeper) for each of {@code classes}, content read on the executors. */
    static Dataset<Row> read(SparkSession spark, Path root, List<String> classes, int partitions) {
        if (partitions > 0) {
            spark.conf().set("spark.sql.files.minPartitionNum", Integer.toString(partitions));
        }
        // the class folders by name, not a glob (DATA/*/*): the files of each, no deeper, as one machine lists them
        String[] folders = classes.stream().map(c -> root.toAbsolutePath().resolve(c).toUri().toString()).toArray(String[]::new);
        // the extension matched case-blind by the regex itself: lower() on the path goes through ICU case
        // mapping in Spark 4 (spark.sql.icu.caseMappings.enabled), which took most of a task's time on small images
        Dataset<Row> rows = spark.read().format("binaryFile").load(folders)
                .filter(functions.col("path").rlike("(?i)\\.(jpe?g|png)$"));
        if (partitions > 0 && rows.rdd().getNumPartitions() > partitions) {
            rows = rows.coalesce(partitions);
        }
        return rows;
    }

    /** The class of an image: the name of the folder holding it. */
    static String parent(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        String dir = p.substring(0, p.lastIndexOf('/'));
        return decode(dir.substring(dir.lastIndexOf('/') + 1));
    }

    static int label(String path, List<String> classes) {
        int i = classes.indexOf(parent(path));
        if (i < 0) {
            throw new UsageException("image '" + display(path) + "': its folder is not one of the classes " + classes);
        }
        return i;
    }

    /** A file: URI as the local path a user wrote; other URIs as they are. */
    static String display(String path) {
        if (path.startsWith("file:")) {
            try {
                return Path.of(new URI(path)).toString();
            } catch (java.net.URISyntaxException | IllegalArgumentException e) {
                return path;
            }
        }
        return path;
    }

    /** The order single-machine features reads images in: by label, then by path. */
    static Comparator<Row> order() {
        return Comparator.<Row>comparingLong(r -> r.getLong(1)).thenComparing(r -> Path.of(display(r.getString(0))));
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    }
}
