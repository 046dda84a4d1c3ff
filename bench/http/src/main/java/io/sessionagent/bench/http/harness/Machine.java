package io.sessionagent.bench.http.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the numbers were measured on: CPUs, their model, the JVM, the kernel, the load at the start. */
record Machine(int cpus, String cpuModel, String java, String os, String loadAtStart, String wrkVersion) {

    static Machine describe(String wrk) {
        return new Machine(Runtime.getRuntime().availableProcessors(), readCpuModel(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
                        + System.getProperty("java.vm.vendor") + ")",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                firstLine(Path.of("/proc/loadavg")), wrkVersion(wrk));
    }

    String markdown() {
        return cpus + " CPUs (" + cpuModel + "), " + java + ", " + os + ", " + wrkVersion
                + "; load average at the start (1, 5, 15 min): " + loadAtStart;
    }

    private static String readCpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static String firstLine(Path p) {
        try {
            List<String> lines = Files.readAllLines(p);
            String[] f = lines.isEmpty() ? new String[0] : lines.get(0).split(" ");
            return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String wrkVersion(String wrk) {
        try {
            Process p = new ProcessBuilder(wrk, "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor();
            String line = out.lines().findFirst().orElse("wrk");
            int cut = line.indexOf(" [");
            return cut > 0 ? line.substring(0, cut) : line;
        } catch (IOException e) {
            return "wrk (version unknown)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "wrk (version unknown)";
        }
    }
}
