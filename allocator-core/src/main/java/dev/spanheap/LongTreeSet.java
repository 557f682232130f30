package dev.spanheap;

import java.util.Arrays;

/**
 * An ordered set of non-negative {@code long}s with no object per element: an AVL tree whose
 * nodes are indices into parallel arrays. The page heap's free-run index
 * ({@code length << 40 | firstPage}) lives in one.
 *
 * <p>Why not {@code TreeSet<Long>}: each insertion there allocates a boxed key and a tree entry
 * and links the entry into older entries, so every free run made or merged produced Java
 * garbage and ran G1's post-write barrier on the links. Here an insertion writes primitives into
 * arrays that only grow (doubling) when the set reaches a new size.
 *
 * <p>Node 0 is the empty tree (height 0); freed nodes are chained through {@link #left} for
 * reuse. Queries return {@link #NONE} when no element qualifies. Not thread-safe: the page heap
 * uses it under its lock.
 */
final class LongTreeSet {

    /** Returned by queries when no element qualifies (elements are never negative). */
    static final long NONE = -1;

    private long[] key = new long[64];
    private int[] left = new int[64];
    private int[] right = new int[64];
    private byte[] height = new byte[64];
    private int root;
    private int size;
    /** Next never-used node; nodes below it are in the tree or on the free chain. */
    private int unused = 1;
    /** Head of the chain of freed nodes (linked through {@code left}), or 0. */
    private int freeChain;
    /** Set by insert/delete: whether the last call changed the set. */
    private boolean changed;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Adds {@code value} (not negative); false if it was already present. */
    boolean add(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("LongTreeSet holds non-negative values, not " + value);
        }
        changed = false;
        root = insert(root, value);
        if (changed) {
            size++;
        }
        return changed;
    }

    /** Removes {@code value}; false if it was not present. */
    boolean remove(long value) {
        changed = false;
        root = delete(root, value);
        if (changed) {
            size--;
        }
        return changed;
    }

    boolean contains(long value) {
        int n = root;
        while (n != 0) {
            long k = key[n];
            if (value == k) {
                return true;
            }
            n = value < k ? left[n] : right[n];
        }
        return false;
    }

    /** The least element at or above {@code value}, or {@link #NONE}. */
    long ceiling(long value) {
        long best = NONE;
        int n = root;
        while (n != 0) {
            long k = key[n];
            if (k >= value) {
                best = k;
                n = left[n];
            } else {
                n = right[n];
            }
        }
        return best;
    }

    /** The least element above {@code value}, or {@link #NONE}: ascending iteration. */
    long higher(long value) {
        return value == Long.MAX_VALUE ? NONE : ceiling(value + 1);
    }

    /** The greatest element below {@code value}, or {@link #NONE}: descending iteration. */
    long lower(long value) {
        long best = NONE;
        int n = root;
        while (n != 0) {
            long k = key[n];
            if (k < value) {
                best = k;
                n = right[n];
            } else {
                n = left[n];
            }
        }
        return best;
    }

    /** The least element, or {@link #NONE}. */
    long first() {
        return ceiling(0);
    }

    /** The greatest element, or {@link #NONE}. */
    long last() {
        int n = root;
        if (n == 0) {
            return NONE;
        }
        while (right[n] != 0) {
            n = right[n];
        }
        return key[n];
    }

    // ---------------------------------------------------------------- AVL insert and delete

    private int insert(int n, long value) {
        if (n == 0) {
            changed = true;
            return newNode(value);
        }
        // The child is computed before the store: an insertion may replace the arrays (growth), and
        // "left[n] = insert(...)" would write into the array read before the call.
        long k = key[n];
        if (value < k) {
            int child = insert(left[n], value);
            left[n] = child;
        } else if (value > k) {
            int child = insert(right[n], value);
            right[n] = child;
        } else {
            return n;
        }
        return balance(n);
    }

    private int delete(int n, long value) {
        if (n == 0) {
            return 0;
        }
        long k = key[n];
        if (value < k) {
            left[n] = delete(left[n], value);
        } else if (value > k) {
            right[n] = delete(right[n], value);
        } else {
            changed = true;
            if (left[n] == 0 || right[n] == 0) {
                int child = left[n] == 0 ? right[n] : left[n];
                freeNode(n);
                return child;
            }
            // Two children: take the successor's key, then delete the successor from the right.
            int successor = right[n];
            while (left[successor] != 0) {
                successor = left[successor];
            }
            key[n] = key[successor];
            right[n] = delete(right[n], key[successor]);
        }
        return balance(n);
    }

    private int balance(int n) {
        update(n);
        int skew = height[left[n]] - height[right[n]];
        if (skew > 1) {
            if (height[left[left[n]]] < height[right[left[n]]]) {
                left[n] = rotateLeft(left[n]);
            }
            return rotateRight(n);
        }
        if (skew < -1) {
            if (height[right[right[n]]] < height[left[right[n]]]) {
                right[n] = rotateRight(right[n]);
            }
            return rotateLeft(n);
        }
        return n;
    }

    private int rotateRight(int n) {
        int l = left[n];
        left[n] = right[l];
        right[l] = n;
        update(n);
        update(l);
        return l;
    }

    private int rotateLeft(int n) {
        int r = right[n];
        right[n] = left[r];
        left[r] = n;
        update(n);
        update(r);
        return r;
    }

    private void update(int n) {
        height[n] = (byte) (1 + Math.max(height[left[n]], height[right[n]]));
    }

    private int newNode(long value) {
        int n;
        if (freeChain != 0) {
            n = freeChain;
            freeChain = left[n];
        } else {
            if (unused == key.length) {
                int length = key.length * 2;
                key = Arrays.copyOf(key, length);
                left = Arrays.copyOf(left, length);
                right = Arrays.copyOf(right, length);
                height = Arrays.copyOf(height, length);
            }
            n = unused++;
        }
        key[n] = value;
        left[n] = 0;
        right[n] = 0;
        height[n] = 1;
        return n;
    }

    private void freeNode(int n) {
        left[n] = freeChain;
        right[n] = 0;
        height[n] = 0;
        freeChain = n;
    }

    // ---------------------------------------------------------------- checks

    /** The first broken invariant (order, AVL balance, stored heights, size), or null. For tests. */
    String verify() {
        int[] count = new int[1];
        String problem = verify(root, NONE, NONE, count);
        if (problem == null && count[0] != size) {
            problem = "tree holds " + count[0] + " nodes, size says " + size;
        }
        return problem;
    }

    /** Checks the subtree at {@code n}: keys above {@code above} and below {@code below} ({@link #NONE}: no bound). */
    private String verify(int n, long above, long below, int[] count) {
        if (n == 0) {
            return null;
        }
        count[0]++;
        long k = key[n];
        if (k <= above || (below != NONE && k >= below)) {
            return "key " + k + " at node " + n + " is outside (" + above + ", " + below + ")";
        }
        String problem = verify(left[n], above, k, count);
        if (problem == null) {
            problem = verify(right[n], k, below, count);
        }
        if (problem != null) {
            return problem;
        }
        int l = height[left[n]];
        int r = height[right[n]];
        if (height[n] != 1 + Math.max(l, r)) {
            return "node " + n + " stores height " + height[n] + ", children have " + l + " and " + r;
        }
        if (Math.abs(l - r) > 1) {
            return "node " + n + " is unbalanced: " + l + " against " + r;
        }
        return null;
    }
}
