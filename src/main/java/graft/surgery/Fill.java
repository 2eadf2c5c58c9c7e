package graft.surgery;

/** The {@code --init} and {@code --seed} options of edits that make weights, as they are written back. */
final class Fill {
    private Fill() {
    }

    /** Glorot uniform, the Keras default for new Dense and Conv kernels. */
    static Init orDefault(Init init) {
        return init == null ? Init.GLOROT : init;
    }

    static String text(Init init, long seed) {
        return (init == null ? "" : " --init " + init) + (seed == 0 ? "" : " --seed " + seed);
    }
}
