package dev.spanheap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The memory limit of the control group the process runs in, as a container runtime sets it:
 * cgroup v2's {@code memory.max} or cgroup v1's {@code memory.limit_in_bytes}. Go has no such
 * reader (its limit is set by the user); the JVM reads the same files to size its own heap.
 *
 * <p>How it is found: {@code /proc/self/cgroup} names the process's group (the line whose
 * controllers include {@code memory} for v1, the {@code 0::} line for v2); {@code
 * /proc/self/mountinfo} says where that hierarchy is mounted and which group its mount root is. The
 * limit is the smallest one set on the group and each ancestor up to the mount point (a parent's
 * limit binds its children too). A v1 memory controller wins over a v2 line (hybrid setups mount
 * v2 without the memory controller). "max", v1's huge "no limit" value, and missing or unreadable
 * files mean no limit.
 *
 * @param bytes   the limit, or {@code Long.MAX_VALUE} if none was found
 * @param version 1 or 2 for the hierarchy read, 0 when none was found
 * @param file    the file the limit came from, or the reason none was found
 */
record CgroupMemoryLimit(long bytes, int version, String file) {

    /** v1 reports "no limit" as a huge page-rounded number; anything at or above this counts as none. */
    static final long NO_LIMIT_THRESHOLD = 1L << 60;

    /** The limit of this process, read from the real {@code /proc} and cgroup file systems. */
    static CgroupMemoryLimit ofThisProcess() {
        return read(Path.of("/"));
    }

    /**
     * The limit as seen under {@code root}, a directory standing for "/" (the real root, or a fake
     * tree holding {@code proc/self/cgroup}, {@code proc/self/mountinfo} and the cgroup files).
     */
    static CgroupMemoryLimit read(Path root) {
        List<String> groups;
        List<String> mounts;
        try {
            groups = Files.readAllLines(root.resolve("proc/self/cgroup"));
            mounts = Files.readAllLines(root.resolve("proc/self/mountinfo"));
        } catch (IOException | RuntimeException e) {
            return none("no /proc/self/cgroup or mountinfo (" + e.getMessage() + ")");
        }
        String v1Group = null;
        String v2Group = null;
        for (String line : groups) {
            String[] parts = line.split(":", 3);
            if (parts.length < 3) {
                continue;
            }
            if (parts[0].equals("0") && parts[1].isEmpty()) {
                v2Group = parts[2];
            } else if (List.of(parts[1].split(",")).contains("memory")) {
                v1Group = parts[2];
            }
        }
        List<Mount> parsed = mounts.stream().map(line -> Mount.parse(line, root)).filter(m -> m != null).toList();
        if (v1Group != null) {
            for (Mount mount : parsed) {
                if (mount.fsType.equals("cgroup") && mount.superOptions.contains("memory")) {
                    return limitUnder(mount.point, mount.root, v1Group, "memory.limit_in_bytes", 1);
                }
            }
        }
        if (v2Group != null) {
            for (Mount mount : parsed) {
                if (mount.fsType.equals("cgroup2")) {
                    return limitUnder(mount.point, mount.root, v2Group, "memory.max", 2);
                }
            }
        }
        return none(v1Group == null && v2Group == null ? "no memory cgroup in /proc/self/cgroup"
                : "the process's cgroup hierarchy is not mounted");
    }

    /** The smallest limit in {@code fileName} of the group's directory and its ancestors up to the mount point. */
    private static CgroupMemoryLimit limitUnder(Path mountPoint, String mountRoot, String group, String fileName, int version) {
        // The mount shows the hierarchy from mountRoot down; a container often sees its own group as the root.
        String relative;
        if (group.equals(mountRoot)) {
            relative = "";
        } else if (mountRoot.equals("/")) {
            relative = group.substring(1);
        } else if (group.startsWith(mountRoot + "/")) {
            relative = group.substring(mountRoot.length() + 1);
        } else {
            relative = "";
        }
        Path directory = relative.isEmpty() ? mountPoint : mountPoint.resolve(relative);
        long smallest = Long.MAX_VALUE;
        Path smallestFile = null;
        boolean readAny = false;
        for (Path dir = directory; dir != null && dir.startsWith(mountPoint); dir = dir.getParent()) {
            Path file = dir.resolve(fileName);
            long limit;
            try {
                limit = parseLimit(Files.readString(file));
            } catch (IOException | RuntimeException unreadable) {
                continue;
            }
            readAny = true;
            if (limit < smallest) {
                smallest = limit;
                smallestFile = file;
            }
        }
        if (smallestFile == null) {
            return new CgroupMemoryLimit(Long.MAX_VALUE, version,
                    readAny ? directory.resolve(fileName) + ": no limit" : directory.resolve(fileName) + ": not readable");
        }
        return new CgroupMemoryLimit(smallest, version, smallestFile.toString());
    }

    /**
     * A limit file's content: a number of bytes, or "max". {@code Long.MAX_VALUE} means no limit:
     * for "max", for cgroup v1's huge "unlimited" figure (at least {@link #NO_LIMIT_THRESHOLD}),
     * and for 0 or less, which no running process can be held to.
     */
    static long parseLimit(String content) {
        String text = content.trim();
        if (text.equals("max")) {
            return Long.MAX_VALUE;
        }
        long value = Long.parseLong(text);
        return value <= 0 || value >= NO_LIMIT_THRESHOLD ? Long.MAX_VALUE : value;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal ({@code \040}). */
    private static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** One line of mountinfo: the mounted hierarchy's root, where it is mounted (under the fake root), its type and options. */
    private record Mount(String root, Path point, String fsType, List<String> superOptions) {

        /** Parses {@code id parent major:minor root mount-point options [optional...] - fstype source super-options}; null if malformed. */
        static Mount parse(String line, Path fakeRoot) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                return null;
            }
            String[] head = line.substring(0, dash).split(" ");
            String[] tail = line.substring(dash + 3).split(" ");
            if (head.length < 5 || tail.length < 1) {
                return null;
            }
            List<String> options = tail.length >= 3 ? List.of(tail[2].split(",")) : List.of();
            return new Mount(unescape(head[3]), fakeRoot.resolve(unescape(head[4]).substring(1)), tail[0], options);
        }
    }

    private static CgroupMemoryLimit none(String why) {
        return new CgroupMemoryLimit(Long.MAX_VALUE, 0, why);
    }

    /** Whether a limit was found. */
    boolean limited() {
        return bytes != Long.MAX_VALUE;
    }
}
