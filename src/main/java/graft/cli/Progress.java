package graft.cli;

import java.io.PrintWriter;
import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar for a long job (me.tongfei:progressbar): count, percentage, rate and ETA. On a terminal it
 * redraws one line in place; otherwise (a CI log, a pipe, a test) it prints a plain line at most every two
 * seconds when the count moved, and the final count, so logs stay readable. {@code --quiet}: nothing.
 * The bar refreshes from the library's own timer thread; {@link #step} may be called from any one thread.
 */
final class Progress implements AutoCloseable {
    private static final int PLAIN_INTERVAL_MS = 2000;
    private final ProgressBar bar;
    private volatile long printed = -1;
    private volatile boolean closing;
    private volatile String last = "";

    private Progress(PrintWriter log, java.io.PrintStream terminal, boolean quiet, String task, long total, String unit) {
        this(log, terminal, quiet, task, total, unit, 1);
    }

    private Progress(PrintWriter log, java.io.PrintStream terminal, boolean quiet, String task, long total, String unit, long unitSize) {
        if (quiet) {
            bar = null;
            return;
        }
        log.flush();
        boolean interactive = System.console() != null;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUnit(" " + unit, unitSize).showSpeed().setSpeedUnit(ChronoUnit.SECONDS);
        if (interactive) {
            b.setConsumer(new ConsoleProgressBarConsumer(terminal, 100)).setUpdateIntervalMillis(200);
        } else {
            b.setUpdateIntervalMillis(PLAIN_INTERVAL_MS).setConsumer(new DelegatingProgressBarConsumer(line -> {
                // the timer redraws even when nothing moved: a plain log gets a line only for progress
                // the library renders from its timer thread while the count moves, so a line may mix two counts
                // (6/6 at 16%): the final render, on close, is printed unless the same line just was
                String text = line.strip();
                if (closing ? !text.equals(last) : current() != printed) {
                    printed = current();
                    last = text;
                    log.println(text);
                    log.flush();
                }
            }, 100));
        }
        bar = b.build();
    }

    /** A bar drawn on {@code terminal} (System.out or System.err, the stream behind {@code log}) or as lines on {@code log}. */
    static Progress start(PrintWriter log, java.io.PrintStream terminal, boolean quiet, String task, long total, String unit) {
        return new Progress(log, terminal, quiet, task, total, unit);
    }

    /** As {@link #start}, counting in units of {@code unitSize} (bytes shown as MB: 1 << 20). */
    static Progress start(PrintWriter log, java.io.PrintStream terminal, boolean quiet, String task, long total, String unit, long unitSize) {
        return new Progress(log, terminal, quiet, task, total, unit, unitSize);
    }

    private long current() {
        return bar == null ? 0 : bar.getCurrent();
    }

    /** Sets the count done so far. */
    void stepTo(long done) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            closing = true;
            bar.close();
        }
    }
}
