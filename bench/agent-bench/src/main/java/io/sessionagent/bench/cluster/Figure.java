package io.sessionagent.bench.cluster;

/** One measured figure: a stable key for machines, a label and unit for people. */
record Figure(String key, String label, double value, String unit) {
}
