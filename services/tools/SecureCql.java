// Cql.java for the secure Cassandra (CASSANDRA_SECURE=1): TLS with the JVM's javax.net.ssl.*
// key and trust stores (set by scripts/services) and a login from $CQL_USER / $CQL_PASSWORD
// (default cassandra/cassandra; the password is read from the environment, not the command line).
//   java -Djavax.net.ssl.keyStore=... -Djavax.net.ssl.trustStore=... -cp "<cassandra libs>/*" \
//     SecureCql.java [--host H] [--port P] [--wait SECONDS] [STATEMENT...]
// Until --wait seconds have passed, "not reachable" and "login refused" (the default superuser is
// created shortly after the native transport opens) are retried.
import com.datastax.driver.core.*;
import com.datastax.driver.core.exceptions.AuthenticationException;
import com.datastax.driver.core.exceptions.NoHostAvailableException;
import java.util.*;

public class SecureCql {
    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 9042;
        int waitSeconds = 0;
        List<String> statements = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host": host = args[++i]; break;
                case "--port": port = Integer.parseInt(args[++i]); break;
                case "--wait": waitSeconds = Integer.parseInt(args[++i]); break;
                default: statements.add(args[i]);
            }
        }
        String user = Optional.ofNullable(System.getenv("CQL_USER")).orElse("cassandra");
        String password = Optional.ofNullable(System.getenv("CQL_PASSWORD")).orElse("cassandra");
        long deadline = System.currentTimeMillis() + waitSeconds * 1000L;
        while (true) {
            try (Cluster cluster = Cluster.builder().addContactPoint(host).withPort(port).withSSL()
                    .withCredentials(user, password).withoutJMXReporting().withoutMetrics().build();
                 Session session = cluster.connect()) {
                if (statements.isEmpty()) {
                    Row row = session.execute("SELECT release_version FROM system.local").one();
                    System.out.println("Cassandra " + row.getString(0) + " (TLS, logged in as " + user + ")");
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
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("Cassandra not usable at " + host + ":" + port + ": " + e.getMessage());
                    System.exit(2);
                }
                Thread.sleep(1000);
            }
        }
    }
}
