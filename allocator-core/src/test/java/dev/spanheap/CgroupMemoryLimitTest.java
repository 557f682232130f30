package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container limit reader on fake cgroup trees (v1 and v2 layouts, "max", v1's huge "no limit"
 * value, a tighter parent, missing files, mountinfo's octal escapes, malformed lines, a mount root
 * other than "/", no memory group or no mounted hierarchy), once on this machine's real /proc, and
 * the default {@code maxHeapBytes} derived from a limit as the README says.
 */
class CgroupMemoryLimitTest {

    private static final long GIB = 1L << 30;
    private static final String V1_MOUNTS = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            """;
    private static final String V2_MOUNTS = """
            25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
            """;

    @TempDir
    Path root;

    private void write(String path, String content) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    @Test
    void v1LimitOfTheProcessGroup() throws IOException {
        write("proc/self/cgroup", "5:devices:/\n4:memory:/jobs/job7\n0::/\n");
        write("proc/self/mountinfo", V1_MOUNTS);
        write("sys/fs/cgroup/memory/jobs/job7/memory.limit_in_bytes", "4294967296\n");
        write("sys/fs/cgroup/memory/jobs/memory.limit_in_bytes", "9223372036854771712\n");
        write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        CgroupMemoryLimit limit = CgroupMemoryLimit.read(root);
        assertEquals(4 * GIB, limit.bytes());
        assertEquals(1, limit.version());
        assertTrue(limit.file().endsWith("jobs/job7/memory.limit_in_bytes"), limit.file());
    }

    @Test
    void v1TighterParentBindsTheChild() throws IOException {
        write("proc/self/cgroup", "4:memory:/jobs/job7\n");
        write("proc/self/mountinfo", V1_MOUNTS);
        write("sys/fs/cgroup/memory/jobs/job7/memory.limit_in_bytes", "9223372036854771712\n");
        write("sys/fs/cgroup/memory/jobs/memory.limit_in_bytes", "2147483648\n");
        assertEquals(2 * GIB, CgroupMemoryLimit.read(root).bytes());
    }

    @Test
    void v1NoLimitValueMeansNone() throws IOException {
        write("proc/self/cgroup", "4:memory:/jobs/job7\n");
        write("proc/self/mountinfo", V1_MOUNTS);
        write("sys/fs/cgroup/memory/jobs/job7/memory.limit_in_bytes", "9223372036854771712\n");
        CgroupMemoryLimit limit = CgroupMemoryLimit.read(root);
        assertFalse(limit.limited());
        assertEquals(1, limit.version());
        assertTrue(limit.file().endsWith("no limit"), limit.file());
    }

    @Test
    void v1ContainerSeesItsGroupAsTheMountRoot() throws IOException {
        // Docker with a private cgroup namespace off: the mount root is the container's own group.
        write("proc/self/cgroup", "4:memory:/docker/abc\n");
        write("proc/self/mountinfo", "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory\n");
        write("sys/fs/cgroup/memory/memory.limit_in_bytes", "536870912\n");
        assertEquals(512L << 20, CgroupMemoryLimit.read(root).bytes());
    }

    @Test
    void v2LimitAndMax() throws IOException {
        write("proc/self/cgroup", "0::/user.slice/app.scope\n");
        write("proc/self/mountinfo", V2_MOUNTS);
        write("sys/fs/cgroup/user.slice/app.scope/memory.max", "3221225472\n");
        write("sys/fs/cgroup/user.slice/memory.max", "max\n");
        CgroupMemoryLimit limit = CgroupMemoryLimit.read(root);
        assertEquals(3 * GIB, limit.bytes());
        assertEquals(2, limit.version());

        write("sys/fs/cgroup/user.slice/app.scope/memory.max", "max\n");
        assertFalse(CgroupMemoryLimit.read(root).limited());
        assertEquals(2, CgroupMemoryLimit.read(root).version());
    }

    @Test
    void missingFilesMeanNoLimit() throws IOException {
        assertFalse(CgroupMemoryLimit.read(root).limited(), "no /proc at all");
        assertEquals(0, CgroupMemoryLimit.read(root).version());
        write("proc/self/cgroup", "0::/a\n");
        write("proc/self/mountinfo", V2_MOUNTS);
        CgroupMemoryLimit limit = CgroupMemoryLimit.read(root);
        assertFalse(limit.limited());
        assertTrue(limit.file().endsWith("not readable"), limit.file());
    }

    @Test
    void limitFileContents() {
        assertEquals(Long.MAX_VALUE, CgroupMemoryLimit.parseLimit("max\n"));
        assertEquals(Long.MAX_VALUE, CgroupMemoryLimit.parseLimit("9223372036854771712"));
        assertEquals(1048576, CgroupMemoryLimit.parseLimit(" 1048576\n"));
    }

    /** This machine's real /proc and cgroup files: whatever they say must read without error and agree with a direct read. */
    @Test
    void thisMachine() throws IOException {
        CgroupMemoryLimit limit = CgroupMemoryLimit.ofThisProcess();
        System.out.println("cgroup memory limit of this process: " + limit);
        Path cgroup = Path.of("/proc/self/cgroup");
        if (!Files.exists(cgroup)) {
            assertEquals(0, limit.version());
            return;
        }
        List<String> lines = Files.readAllLines(cgroup);
        boolean v1Memory = lines.stream().anyMatch(l -> l.split(":", 3).length == 3 && List.of(l.split(":", 3)[1].split(",")).contains("memory"));
        if (v1Memory && Files.isDirectory(Path.of("/sys/fs/cgroup/memory"))) {
            assertEquals(1, limit.version());
            if (limit.limited()) {
                assertEquals(CgroupMemoryLimit.parseLimit(Files.readString(Path.of(limit.file()))), limit.bytes());
            }
        }
        SpanHeapConfig defaults = SpanHeapConfig.defaults();
        if (System.getProperty(SharedHeap.MAX_HEAP_BYTES) == null) {
            assertEquals(limit.limited() ? (limit.version() == 2 ? HeapLimitSource.CGROUP_V2 : HeapLimitSource.CGROUP_V1)
                    : HeapLimitSource.NONE, defaults.maxHeapBytesSource());
            assertEquals(limit.limited() ? DefaultHeapLimit.shareOf(limit.bytes(), Runtime.getRuntime().maxMemory())
                    : Long.MAX_VALUE, defaults.maxHeapBytes());
        }
    }

    @Test
    void defaultLimitIsTheContainerLimitMinusTheJavaHeapAndAMargin() {
        CgroupMemoryLimit four = new CgroupMemoryLimit(4 * GIB, 2, "memory.max");
        // 4 GiB container, 1 GiB Java heap: 4 - 1 - 0.5 (an eighth) = 2.5 GiB.
        DefaultHeapLimit limit = DefaultHeapLimit.fromCgroup(four, GIB);
        assertEquals(5 * GIB / 2, limit.bytes());
        assertEquals(HeapLimitSource.CGROUP_V2, limit.source());
        // A small container: the margin is at least 64 MiB.
        assertEquals((256L << 20) - (64L << 20) - (64L << 20), DefaultHeapLimit.shareOf(256L << 20, 64L << 20));
        // A Java heap as large as the container still leaves an eighth of it.
        assertEquals(GIB / 2, DefaultHeapLimit.shareOf(4 * GIB, 4 * GIB));
        assertEquals(HeapLimitSource.CGROUP_V1, DefaultHeapLimit.fromCgroup(new CgroupMemoryLimit(GIB, 1, "f"), 0).source());
        DefaultHeapLimit none = DefaultHeapLimit.fromCgroup(new CgroupMemoryLimit(Long.MAX_VALUE, 1, "no limit"), GIB);
        assertEquals(Long.MAX_VALUE, none.bytes());
        assertEquals(HeapLimitSource.NONE, none.source());
    }

    @Test
    void propertyAndBuilderOverrideTheDefault() {
        assertEquals(HeapLimitSource.PROPERTY, DefaultHeapLimit.resolve("2g").source());
        assertEquals(2 * GIB, DefaultHeapLimit.resolve("2g").bytes());
        assertEquals(Long.MAX_VALUE, DefaultHeapLimit.resolve("0").bytes(), "0 means no limit");
        assertEquals(HeapLimitSource.PROPERTY, DefaultHeapLimit.resolve("0").source());
        SpanHeapConfig none = SpanHeapConfig.builder().maxHeapBytes(0).build();
        assertEquals(Long.MAX_VALUE, none.maxHeapBytes());
        assertEquals(HeapLimitSource.CONFIG, none.maxHeapBytesSource());
        assertEquals(HeapLimitSource.CONFIG, SpanHeapConfig.builder().maxHeapBytes(GIB).build().maxHeapBytesSource());
        assertEquals(HeapLimitSource.PROPERTY,
                SharedHeap.configFrom(java.util.Map.of(SharedHeap.MAX_HEAP_BYTES, "1g")::get).maxHeapBytesSource());
        SpanHeapConfig sharedNone = SharedHeap.configFrom(java.util.Map.of(SharedHeap.MAX_HEAP_BYTES, "0")::get);
        assertEquals(Long.MAX_VALUE, sharedNone.maxHeapBytes(), "-Dspanheap.maxHeapBytes=0 means no limit");
        assertEquals(HeapLimitSource.PROPERTY, sharedNone.maxHeapBytesSource());
    }

    /**
     * mountinfo writes a space, tab, newline and backslash in a path as {@code \040}, {@code \011},
     * {@code \012} and {@code \134} ({@code man 5 proc}); /proc/self/cgroup writes the group as it
     * is. The escapes are undone in the mount point (at its start, middle and end) and in the mount
     * root, which must then match the group's own spelling.
     */
    @Test
    void escapedMountPointAndRootAreUnescaped() throws IOException {
        write("proc/self/cgroup", "0::/\n");
        write("proc/self/mountinfo",
                "25 30 0:22 / /sys/fs/cgroup/a\\040b\\011c\\012d\\134e rw,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
        Path dir = root.resolve("sys/fs/cgroup/a b\tc\nd\\e");
        write("sys/fs/cgroup/a b\tc\nd\\e/memory.max", "1073741824\n");
        CgroupMemoryLimit limit = CgroupMemoryLimit.read(root);
        assertEquals(GIB, limit.bytes());
        assertEquals(dir.resolve("memory.max").toString(), limit.file());

        // Escapes first and last in a field: the mount point "/\134cg\040" and the root "/my\040app".
        write("proc/self/cgroup", "4:memory:/my app/job 1\n");
        write("proc/self/mountinfo", "35 31 0:32 /my\\040app /\\134cg\\040 rw,relatime - cgroup cgroup rw,memory\n");
        write("\\cg /memory.limit_in_bytes", "9223372036854771712\n");
        write("\\cg /job 1/memory.limit_in_bytes", "2147483648\n");
        limit = CgroupMemoryLimit.read(root);
        assertEquals(2 * GIB, limit.bytes(), "the group lies below the unescaped root, in its job 1 directory");
        assertEquals(root.resolve("\\cg /job 1/memory.limit_in_bytes").toString(), limit.file());
    }

    /**
     * A backslash with fewer than three characters after it is no escape (the kernel never writes
     * one, as it escapes a backslash itself); it is kept as it is, and the line still parses.
     */
    @Test
    void backslashTooCloseToTheEndIsKept() throws IOException {
        write("proc/self/cgroup", "0::/\n");
        write("proc/self/mountinfo", "25 30 0:22 / /cg\\04 rw,relatime - cgroup2 cgroup2 rw\n");
        write("cg\\04/memory.max", "536870912\n");
        assertEquals(512L << 20, CgroupMemoryLimit.read(root).bytes());
        write("proc/self/mountinfo", "25 30 0:22 / /cg\\ rw,relatime - cgroup2 cgroup2 rw\n");
        write("cg\\/memory.max", "268435456\n");
        assertEquals(256L << 20, CgroupMemoryLimit.read(root).bytes());
    }

    /** Lines without the " - " separator or with too few fields before it are skipped, not fatal. */
    @Test
    void malformedMountinfoLinesAreSkipped() throws IOException {
        write("proc/self/cgroup", "0::/app\n");
        write("proc/self/mountinfo", "not a mount line\n24 30 0:21 / - cgroup2 cgroup2 rw\n" + V2_MOUNTS);
        write("sys/fs/cgroup/app/memory.max", "1073741824\n");
        assertEquals(GIB, CgroupMemoryLimit.read(root).bytes());
    }

    /**
     * A mount root other than "/" that the group lies below (a Kubernetes pod's hierarchy): the
     * group's path below the root names its directory under the mount point. A group outside the
     * root reads the mount point itself.
     */
    @Test
    void groupBelowAMountRootOtherThanSlash() throws IOException {
        write("proc/self/cgroup", "4:memory:/kubepods/pod1/c1\n");
        write("proc/self/mountinfo", "35 31 0:32 /kubepods /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n");
        write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        write("sys/fs/cgroup/memory/pod1/memory.limit_in_bytes", "2147483648\n");
        write("sys/fs/cgroup/memory/pod1/c1/memory.limit_in_bytes", "1073741824\n");
        CgroupMemoryLimit limit = CgroupMemoryLimit.read(root);
        assertEquals(GIB, limit.bytes());
        assertEquals(root.resolve("sys/fs/cgroup/memory/pod1/c1/memory.limit_in_bytes").toString(), limit.file());

        write("proc/self/cgroup", "4:memory:/elsewhere/c2\n");
        limit = CgroupMemoryLimit.read(root);
        assertFalse(limit.limited(), "only the mount point's own huge value is read");
        assertEquals(root.resolve("sys/fs/cgroup/memory/memory.limit_in_bytes") + ": no limit", limit.file());
    }

    /** No memory line in /proc/self/cgroup, or a group whose hierarchy (v1 memory or v2) is not mounted: none, and why. */
    @Test
    void noMemoryGroupOrNoMountedHierarchy() throws IOException {
        write("proc/self/cgroup", "5:devices:/\n3:cpu,cpuacct:/\n");
        write("proc/self/mountinfo", V1_MOUNTS);
        assertEquals(new CgroupMemoryLimit(Long.MAX_VALUE, 0, "no memory cgroup in /proc/self/cgroup"), CgroupMemoryLimit.read(root));

        write("proc/self/cgroup", "0::/app\n");
        assertEquals(new CgroupMemoryLimit(Long.MAX_VALUE, 0, "the process's cgroup hierarchy is not mounted"), CgroupMemoryLimit.read(root));

        write("proc/self/cgroup", "4:memory:/app\n");
        write("proc/self/mountinfo", V2_MOUNTS);
        assertEquals(new CgroupMemoryLimit(Long.MAX_VALUE, 0, "the process's cgroup hierarchy is not mounted"), CgroupMemoryLimit.read(root));
    }

    /**
     * The bounds of a limit: 1 byte is one, 0 and below are none (a running process cannot be held
     * to 0 bytes), and {@link CgroupMemoryLimit#NO_LIMIT_THRESHOLD} and above are none while one
     * byte less is a limit.
     */
    @Test
    void limitFileBounds() {
        assertEquals(1, CgroupMemoryLimit.parseLimit("1\n"));
        assertEquals(Long.MAX_VALUE, CgroupMemoryLimit.parseLimit("0\n"));
        assertEquals(Long.MAX_VALUE, CgroupMemoryLimit.parseLimit("-1"));
        assertEquals((1L << 60) - 1, CgroupMemoryLimit.parseLimit(Long.toString((1L << 60) - 1)));
        assertEquals(Long.MAX_VALUE, CgroupMemoryLimit.parseLimit(Long.toString(1L << 60)));
    }
}
