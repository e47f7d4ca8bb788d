import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to one interface (default 127.0.0.1) instead of every
 * interface: DynamoDB Local has no host flag and checks no credentials.
 *
 * Runs as a single-file source program (`java -cp DynamoDBLocal.jar LoopbackDynamoDBLocal.java
 * -inMemory -sharedDb -port N`). It builds the server with DynamoDB Local's own
 * command-line parser, sets the host of its Jetty connectors, and starts it. Anything
 * unexpected (no connector, an unknown connector type, a renamed field) ends the process
 * with an error instead of starting an open server. Telemetry is never configured, so
 * none is sent. The host comes from the system property `riffle.host`.
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("riffle.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    if (proxy == null) throw new IllegalStateException("DynamoDB Local built no server from " + String.join(" ", args));
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local's server has no connector");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("unexpected connector " + connector.getClass().getName());
      }
      ((ServerConnector) connector).setHost(host);
    }
    proxy.start();
    for (Connector connector : connectors) {
      String bound = ((ServerConnector) connector).getHost();
      if (!host.equals(bound)) throw new IllegalStateException("connector bound to " + bound + ", not " + host);
    }
    System.err.println("riffle: DynamoDB Local listening on " + host);
    proxy.join();
  }
}
