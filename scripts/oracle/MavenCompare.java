// Oracle helper for scripts/version-oracle.py (Maven): reads "a<TAB>b" lines on stdin and
// prints, per line, the sign of new ComparableVersion(a).compareTo(new ComparableVersion(b))
// (-1, 0 or 1), or "x" when ComparableVersion throws. Run as a single-file source program:
//   java -cp /usr/share/java/maven-artifact-3.x.jar scripts/oracle/MavenCompare.java
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenCompare {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
        String line;
        while ((line = in.readLine()) != null) {
            int tab = line.indexOf('\t');
            String a = tab < 0 ? line : line.substring(0, tab);
            String b = tab < 0 ? "" : line.substring(tab + 1);
            try {
                out.println(Integer.signum(new ComparableVersion(a).compareTo(new ComparableVersion(b))));
            } catch (RuntimeException e) {
                out.println("x");
            }
        }
        out.flush();
    }
}
