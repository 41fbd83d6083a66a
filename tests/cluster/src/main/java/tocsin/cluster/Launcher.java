package tocsin.cluster;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch for tocsin's integration suite: the server jar and the module
 * plugins (HTTP/transport over Netty, the common analyzers, Painless) loaded from the class
 * path, HTTP bound to 127.0.0.1 only, everything under one home directory.
 *
 * <p>Usage: {@code Launcher HOME HTTP_PORT [key=value ...]}; the extra settings are node
 * settings (a small write queue for the rejection tests, say). The node runs until the
 * process is told to stop (SIGTERM closes it cleanly; SIGKILL is the fault the tests inject).
 */
public final class Launcher {

    /** The module plugins a distribution loads from modules/, here from the class path. */
    static final List<Class<? extends Plugin>> PLUGINS =
        List.of(Netty4Plugin.class, CommonAnalysisPlugin.class, PainlessPlugin.class);

    /** INFO and above to standard output, which scripts/test-cluster sends to node.log. */
    static final String LOGGING = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%c{1.}] %marker%m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "");

    /** Node is built this way by OpenSearch's own test framework (MockNode). */
    static final class ClasspathNode extends Node {
        ClasspathNode(Settings settings, Path config) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> "tocsin-test"),
                PLUGINS, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Launcher HOME HTTP_PORT [key=value ...]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path config = Files.createDirectories(home.resolve("config"));
        Settings.Builder settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "tocsin-test")
            .put("node.name", "tocsin-test")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            .put("transport.port", Integer.toString(freePort()))
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // A test node on a shared disk: never turn indices read-only because the disk is busy.
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        for (int i = 2; i < args.length; i++) {
            String[] pair = args[i].split("=", 2);
            if (pair.length != 2) {
                System.err.println("not a key=value setting: " + args[i]);
                System.exit(2);
            }
            settings.put(pair[0], pair[1]);
        }
        Settings built = settings.build();
        Files.writeString(config.resolve("log4j2.properties"), LOGGING);
        LogConfigurator.setNodeName("tocsin-test");
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(InternalSettingsPreparer.prepareEnvironment(built, Map.of(), config, () -> "tocsin-test"));
        Node node = new ClasspathNode(built, config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }));
        node.start();
        // The node's own threads are daemons: this one keeps the JVM up, as OpenSearch's Bootstrap does.
        stopped.await();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
