// scripts/stack's Kafka provisioning in one JVM: the topic and each role's
// ACLs, through the broker as the stack's own super user. Every step is an
// upsert: run it on every `up`.
//
//   java -cp '<kafka libs>/*' StackSetup.java <broker host:port> <topic> <partitions> <group> <timeout s>
//
// The password comes from the environment (COUPON_KAFKA_STACK_PASSWORD),
// never the command line. Exit status 0 when everything is in place; 1 with
// the reason on stderr.

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class StackSetup {
    static String password() {
        String value = System.getenv("COUPON_KAFKA_STACK_PASSWORD");
        if (value == null || value.isEmpty())
            throw new IllegalArgumentException("COUPON_KAFKA_STACK_PASSWORD is not set");
        return value;
    }

    static AclBinding allow(String user, ResourceType type, String name, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5 && args.length != 6) {
            System.err.println("usage: StackSetup <bootstrap servers> <topic> <partitions> <group> <timeout s> "
                    + "[replication factor]");
            System.exit(2);
        }
        String broker = args[0], topic = args[1], group = args[3];
        int partitions = Integer.parseInt(args[2]);
        int timeoutMs = Integer.parseInt(args[4]) * 1000;
        short replicas = args.length == 6 ? Short.parseShort(args[5]) : 1;

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker);
        props.put(AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put("sasl.mechanism", "PLAIN");
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"stack\" password=\"" + password() + "\";");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
        try (Admin admin = Admin.create(props)) {
            try {
                // Replicated, a write acknowledged with acks=all is on two
                // brokers at least (min.insync.replicas), and an out-of-sync
                // replica never becomes leader (unclean election off).
                NewTopic created = new NewTopic(topic, partitions, replicas);
                if (replicas > 1)
                    created.configs(Map.of("min.insync.replicas", String.valueOf(Math.min(2, replicas)),
                            "unclean.leader.election.enable", "false"));
                admin.createTopics(List.of(created)).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException))
                    throw e;
            }

            // The gateway writes the topic (and, producing idempotently, needs
            // nothing more since Kafka 3.0: WRITE on a topic implies it). The
            // worker reads it in its group, and writes barrier records. The admin role (couponctl, the
            // console, the tests) also produces (couponctl apply), reads in
            // groups of its own, and watches every group's lag.
            List<AclBinding> acls = List.of(
                    allow("coupon_gateway", ResourceType.TOPIC, topic, AclOperation.WRITE),
                    allow("coupon_gateway", ResourceType.TOPIC, topic, AclOperation.DESCRIBE),
                    allow("coupon_worker", ResourceType.TOPIC, topic, AclOperation.READ),
                    // The reconciler's barriers (DESIGN.md): a worker already
                    // writes coupons into MySQL, so this gives it no new power.
                    allow("coupon_worker", ResourceType.TOPIC, topic, AclOperation.WRITE),
                    allow("coupon_worker", ResourceType.TOPIC, topic, AclOperation.DESCRIBE),
                    allow("coupon_worker", ResourceType.GROUP, group, AclOperation.READ),
                    allow("coupon_admin", ResourceType.TOPIC, topic, AclOperation.WRITE),
                    allow("coupon_admin", ResourceType.TOPIC, topic, AclOperation.READ),
                    allow("coupon_admin", ResourceType.TOPIC, topic, AclOperation.DESCRIBE),
                    allow("coupon_admin", ResourceType.TOPIC, topic, AclOperation.DESCRIBE_CONFIGS),
                    allow("coupon_admin", ResourceType.GROUP, "*", AclOperation.READ),
                    allow("coupon_admin", ResourceType.GROUP, "*", AclOperation.DESCRIBE),
                    allow("coupon_admin", ResourceType.CLUSTER, "kafka-cluster", AclOperation.DESCRIBE));
            admin.createAcls(acls).all().get();
        }
    }
}
