// A tiny CQL client for the project's scripts: readiness probe, demo schema and row printing.
// Runs as a single-file Java program on the Cassandra classpath (which carries the 3.x driver):
//   java -cp "<cassandra libs>/*" Cql.java [--secure] [--host H] [--port P] [--wait SECONDS] [STATEMENT...]
// Each statement is executed in order; rows of a SELECT are printed one per line as col=value.
// --secure (the secure Cassandra, CASSANDRA_SECURE=1): TLS with the JVM's javax.net.ssl.* key and
// trust stores (set by scripts/services) and a login from $CQL_USER / $CQL_PASSWORD (default
// cassandra/cassandra; the password is read from the environment, not the command line).
// Until --wait seconds have passed, "not reachable" is retried, and with --secure "login refused"
// too (the default superuser is created shortly after the native transport opens).
import com.datastax.driver.core.*;
import com.datastax.driver.core.exceptions.AuthenticationException;
import com.datastax.driver.core.exceptions.NoHostAvailableException;
import java.util.*;

public class Cql {
    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 9042;
        int waitSeconds = 0;
        boolean secure = false;
        List<String> statements = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host": host = args[++i]; break;
                case "--port": port = Integer.parseInt(args[++i]); break;
                case "--wait": waitSeconds = Integer.parseInt(args[++i]); break;
                case "--secure": secure = true; break;
                default: statements.add(args[i]);
            }
        }
        String user = Optional.ofNullable(System.getenv("CQL_USER")).orElse("cassandra");
        String password = Optional.ofNullable(System.getenv("CQL_PASSWORD")).orElse("cassandra");
        long deadline = System.currentTimeMillis() + waitSeconds * 1000L;
        while (true) {
            Cluster.Builder builder = Cluster.builder().addContactPoint(host).withPort(port)
                    .withoutJMXReporting().withoutMetrics();
            if (secure) builder = builder.withSSL().withCredentials(user, password);
            try (Cluster cluster = builder.build(); Session session = cluster.connect()) {
                if (statements.isEmpty()) {
                    Row row = session.execute("SELECT release_version FROM system.local").one();
                    String how = secure ? " (TLS, logged in as " + user + ")" : "";
                    System.out.println("Cassandra " + row.getString(0) + how);
                }
                for (String cql : statements) {
                    ResultSet rs = session.execute(new SimpleStatement(cql).setReadTimeoutMillis(60000));
                    for (Row row : rs) {
                        StringBuilder line = new StringBuilder();
                        for (ColumnDefinitions.Definition d : row.getColumnDefinitions()) {
                            if (line.length() > 0) line.append(" | ");
                            line.append(d.getName()).append('=').append(row.getObject(d.getName()));
                        }
                        System.out.println(line);
                    }
                }
                return;
            } catch (NoHostAvailableException | AuthenticationException e) {
                if (e instanceof AuthenticationException && !secure) throw e;
                if (System.currentTimeMillis() > deadline) {
                    String what = secure ? "usable" : "reachable";
                    System.err.println("Cassandra not " + what + " at " + host + ":" + port + ": " + e.getMessage());
                    System.exit(2);
                }
                Thread.sleep(1000);
            }
        }
    }
}
