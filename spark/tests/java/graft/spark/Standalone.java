package graft.spark;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster on 127.0.0.1: a Master and Workers (1 core, 1 GB each) started
 * as separate JVMs from this JVM's class path, their logs in {@code dir}. Executors get the same
 * class path ({@code spark.executor.extraClassPath}, set by graft for a spark:// master) and an
 * empty Spark home (Spark's launcher wants a {@code jars/} folder there).
 */
final class Standalone implements AutoCloseable {
    final Path dir;
    final int port;
    final Process master;
    final List<Process> workers = new ArrayList<>();

    Standalone(Path dir, int workerCount) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir.resolve("home/jars"));
        // the daemons log at INFO into their own files: their "registered" lines are what start() waits for
        Files.writeString(dir.resolve("log4j2.properties"), String.join("\n", "rootLogger.level = info",
                "rootLogger.appenderRef.out.ref = out", "appender.out.type = Console", "appender.out.name = out",
                "appender.out.layout.type = PatternLayout", "appender.out.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n", ""));
        this.port = freePort();
        master = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", Integer.toString(port),
                "--webui-port", Integer.toString(freePort()));
        waitForLog("master", "I have been elected leader", 120);
        for (int i = 0; i < workerCount; i++) {
            workers.add(start("worker" + i, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                    "--webui-port", Integer.toString(freePort()), "--work-dir", dir.resolve("work" + i).toString(), url()));
        }
        for (int i = 0; i < workerCount; i++) {
            waitForLog("worker" + i, "Successfully registered with master", 120);
        }
    }

    String url() {
        return "spark://127.0.0.1:" + port;
    }

    private Process start(String name, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        for (String o : System.getProperty("graft.spark.opens", "").split(" ")) {
            if (!o.isBlank()) {
                cmd.add(o);
            }
        }
        cmd.add("-Dlog4j2.configurationFile=" + dir.resolve("log4j2.properties"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", dir.resolve("home").toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    /** Waits until {@code name}'s log says {@code line}: Spark's own word that it is up. */
    private void waitForLog(String name, String line, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Path log = dir.resolve(name + ".log");
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(name + " did not log '" + line + "' within " + seconds + " s; see " + log);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Kills worker {@code i} by its process id (SIGKILL), as a machine that dies would. */
    void kill(int i) {
        long pid = workers.get(i).pid();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Override
    public void close() {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : workers) {
            p.descendants().forEach(all::add);
            all.add(p.toHandle());
        }
        master.descendants().forEach(all::add);
        all.add(master.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
    }
}
