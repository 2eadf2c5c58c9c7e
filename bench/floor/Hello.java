/** The least a JVM does: start, print, exit (bench/jvm_floor.sh). */
public final class Hello {
    public static void main(String[] args) {
        System.out.println("hello");
    }
}
