// A tiny CQL client for the project's scripts: readiness probe, demo schema and row printing.
// Runs as a single-file Java program on the Cassandra classpath (which carries the 3.x driver):
//   java -cp "<cassandra libs>/*" Cql.java [--host H] [--port P] [--wait SECONDS] [STATEMENT...]
// Each statement is executed in order; rows of a SELECT are printed one per line as col=value.
import com.datastax.driver.core.*;
import java.util.*;

public class Cql {
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
        long deadline = System.currentTimeMillis() + waitSeconds * 1000L;
        while (true) {
            try (Cluster cluster = Cluster.builder().addContactPoint(host).withPort(port)
                    .withoutJMXReporting().withoutMetrics().build();
                 Session session = cluster.connect()) {
                if (statements.isEmpty()) {
                    Row row = session.execute("SELECT release_version FROM system.local").one();
                    System.out.println("Cassandra " + row.getString(0));
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
            } catch (com.datastax.driver.core.exceptions.NoHostAvailableException e) {
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("Cassandra not reachable at " + host + ":" + port + ": " + e.getMessage());
                    System.exit(2);
                }
                Thread.sleep(1000);
            }
        }
    }
}
