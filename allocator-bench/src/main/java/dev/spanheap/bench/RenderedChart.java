package dev.spanheap.bench;

/**
 * One chart of a suite run: the file name it is written under, its title (the image's alt text
 * in the markdown), the section of the tables it belongs beside (a benchmark class, or
 * {@code memory} for the RSS chart), and its SVG text.
 */
record RenderedChart(String file, String title, String section, String svg) {
}
