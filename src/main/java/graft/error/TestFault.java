package graft.error;

/**
 * A switch for tests that must provoke a genuine bug in graft: with the system property
 * {@code graft.test.fault} set to a site's name, {@link #at} throws a NullPointerException from
 * graft's own code at that site, as a real bug would. Sites: {@code onnx-import},
 * {@code caffe-import}, {@code keras-import}, {@code exec}. Unset (always, outside tests) it
 * does nothing.
 */
public final class TestFault {
    public static final String PROPERTY = "graft.test.fault";

    private TestFault() {
    }

    public static void at(String site) {
        String v = System.getProperty(PROPERTY);
        if (v != null && v.equals(site)) {
            Object missing = null;
            missing.hashCode();
        }
    }
}
