// The Java side of tst_interop: what Kafka's own LongSerializer and
// LongDeserializer (kafka-clients, the classes the tutorial's producer and
// consumer use) make of user ids on topic coupon_create.
//
// Run as a single-file program (Java 17+):
//   java -cp '<kafka libs>/*' LongSerializerDump.java <id>... [--decode <hex>...]
//
// Each <id> (a decimal long) prints one line: the lowercase hex of the bytes
// LongSerializer writes for it. After --decode, each <hex> prints one line:
// the decimal LongDeserializer reads from those bytes.
// --encode switches back. Any error goes to stderr with exit status 1 (bad
// input: 2).

import java.util.HexFormat;

import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;

public class LongSerializerDump {
    private static final String TOPIC = "coupon_create";

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: LongSerializerDump <id>... [--decode <hex>...]");
            System.exit(2);
        }
        final HexFormat hex = HexFormat.of(); // lowercase, no delimiter
        boolean decode = false;
        final StringBuilder out = new StringBuilder();
        try (LongSerializer serializer = new LongSerializer();
             LongDeserializer deserializer = new LongDeserializer()) {
            for (String arg : args) {
                if (arg.equals("--decode")) {
                    decode = true;
                    continue;
                }
                if (arg.equals("--encode")) {
                    decode = false;
                    continue;
                }
                if (decode) {
                    final byte[] bytes;
                    try {
                        bytes = hex.parseHex(arg);
                    } catch (IllegalArgumentException e) {
                        System.err.println("not hex: '" + arg + "': " + e.getMessage());
                        System.exit(2);
                        return;
                    }
                    final Long value = deserializer.deserialize(TOPIC, bytes);
                    out.append(value).append('\n');
                } else {
                    final long id;
                    try {
                        id = Long.parseLong(arg);
                    } catch (NumberFormatException e) {
                        System.err.println("not a long: '" + arg + "'");
                        System.exit(2);
                        return;
                    }
                    out.append(hex.formatHex(serializer.serialize(TOPIC, id))).append('\n');
                }
            }
        } catch (RuntimeException e) { // SerializationException on a wrong size
            System.err.println("LongSerializerDump: " + e);
            System.exit(1);
        }
        System.out.print(out);
        System.out.flush();
    }
}
