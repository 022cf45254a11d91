// Failover under load (label `cluster`, issue 12): three Kafka brokers
// (replication factor 3, min.insync.replicas 2), Redis with a replica and
// three Sentinels, two gateways and two workers, HTTP applies flowing
// through both gateways while one piece is killed with SIGKILL:
//   a) the leader of a partition of coupon_create;
//   b) the Redis master (Sentinel promotes the replica; every process
//      follows; the campaign reconciles and reopens by itself);
//   c) one worker (its partitions move to the other and drain);
//   d) one gateway (the other keeps answering).
// Each run checks that applies flow again after the fault, that no 202 is
// lost and nothing refused got a coupon (the audit, fed with what each user
// was answered), and reads MySQL and Redis directly. scripts/test runs this
// suite on a stack of its own (COUPON_STACK_BROKERS=3,
// COUPON_STACK_REDIS_REPLICA=1); killed servers are started again with
// `scripts/stack up` before the next case.
#include "coupon/kafka/kafka.h"
#include "coupon/protocol/keys.h"
#include "coupon/redis/redis.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

using namespace coupon;
using namespace Qt::StringLiterals;

namespace {

QByteArray applyPath(const QString &campaign)
{
    return "/api/v1/campaigns/" + campaign.toLatin1() + "/applications";
}

QString stackDir()
{
    return qEnvironmentVariable("COUPON_STACK_DIR");
}

// The pid scripts/stack recorded for one of its servers.
pid_t stackPid(const QString &name)
{
    QFile f(stackDir() + u"/run/"_s + name + u".pid"_s);
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return pid_t(f.readAll().trimmed().toLongLong());
}

bool alive(pid_t pid)
{
    return pid > 0 && ::kill(pid, 0) == 0;
}

// Kafka's default partitioner for a keyed record (Java's murmur2, which
// librdkafka's "murmur2_random" reproduces): the partition of a user.
int partitionOf(qint64 user, int partitions)
{
    const QByteArray key = QByteArray::number(user);
    const auto *data = reinterpret_cast<const uint8_t *>(key.constData());
    const uint32_t length = uint32_t(key.size()), m = 0x5bd1e995;
    uint32_t h = 0x9747b28c ^ length;
    for (uint32_t i = 0; i + 4 <= length; i += 4) {
        uint32_t k = uint32_t(data[i]) | uint32_t(data[i + 1]) << 8 | uint32_t(data[i + 2]) << 16
            | uint32_t(data[i + 3]) << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint32_t tail = length & ~3u;
    switch (length % 4) {
    case 3: h ^= uint32_t(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(data[tail + 1]) << 8; [[fallthrough]];
    case 1: h ^= uint32_t(data[tail]); h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return int((h & 0x7fffffff) % uint32_t(partitions));
}

// Starts whatever of the stack is not running (and waits until it answers).
QString stackUp()
{
    const test::ProgramRun run = test::runProgram(QStringLiteral(COUPON_SOURCE_DIR) + u"/scripts/stack"_s, {u"up"_s},
                                                  QProcessEnvironment::systemEnvironment(), 240000);
    return run.exitCode == 0 ? QString() : run.text();
}

// What the gateways answered, user by user, with the time of each answer.
class Load
{
public:
    Load(QString campaign, QList<quint16> ports, qint64 firstUser)
        : m_campaign(std::move(campaign))
        , m_ports(std::move(ports))
        , m_next(firstUser)
    {
        m_clock.start();
    }
    ~Load() { stop(); }

    void start(int threads)
    {
        for (int i = 0; i < threads; ++i)
            m_threads.emplace_back([this] { run(); });
    }
    void stop()
    {
        m_stop = true;
        for (std::thread &t : m_threads)
            t.join();
        m_threads.clear();
    }
    // Stops sending to `port` (a gateway about to be killed is still tried:
    // the clients of a real drop do not know; only later requests skip it).
    void drop(quint16 port)
    {
        std::lock_guard lock(m_mutex);
        m_ports.removeAll(port);
    }
    qint64 nowMs() const { return m_clock.elapsed(); }

    struct Tally
    {
        AnsweredApplies answered;
        QSet<qint64> unknown; // outcome_unknown, or no answer: either way
        QMap<QString, int> byCode;
        QList<qint64> acceptedAtMs;
        qint64 lastAcceptedMs = -1;
    };
    Tally tally() const
    {
        std::lock_guard lock(m_mutex);
        return m_tally;
    }
    int acceptedSince(qint64 ms) const
    {
        std::lock_guard lock(m_mutex);
        return int(std::count_if(m_tally.acceptedAtMs.cbegin(), m_tally.acceptedAtMs.cend(),
                                 [ms](qint64 at) { return at >= ms; }));
    }
    // The longest stretch with no 202 that begins at or after `fromMs`.
    qint64 longestGapMs(qint64 fromMs) const
    {
        std::lock_guard lock(m_mutex);
        qint64 previous = fromMs, gap = 0;
        for (qint64 at : m_tally.acceptedAtMs) {
            if (at < fromMs)
                continue;
            gap = std::max(gap, at - previous);
            previous = at;
        }
        return gap;
    }

private:
    void run()
    {
        while (!m_stop) {
            const qint64 user = m_next++;
            quint16 port = 0;
            {
                std::lock_guard lock(m_mutex);
                if (m_ports.isEmpty())
                    return;
                port = m_ports.at(int(user % m_ports.size()));
            }
            const test::HttpResult r = test::apply(port, applyPath(m_campaign), user);
            const QString code = r.status == 202 ? u"accepted"_s
                                                 : QJsonDocument::fromJson(r.body).object().value(u"code"_s).toString();
            const qint64 at = m_clock.elapsed();
            std::lock_guard lock(m_mutex);
            const QString key = u"%1 %2"_s.arg(r.status).arg(code);
            ++m_tally.byCode[key];
            if (r.status == 202) {
                m_tally.answered.accepted.insert(user);
                m_tally.acceptedAtMs.append(at);
                m_tally.lastAcceptedMs = at;
            } else if (r.status == 0 || code == u"outcome_unknown"_s) {
                m_tally.unknown.insert(user);
            } else if (r.status >= 400 && r.status < 500) {
                m_tally.answered.rejected.insert(user);
            } else if (r.status == 503) {
                m_tally.answered.rejected.insert(user); // every other 503 reserved nothing
            } else {
                m_tally.unknown.insert(user);
            }
        }
    }

    QString m_campaign;
    QList<quint16> m_ports;
    std::atomic<qint64> m_next;
    std::atomic<bool> m_stop{false};
    std::vector<std::thread> m_threads;
    mutable std::mutex m_mutex;
    Tally m_tally;
    QElapsedTimer m_clock;
};

} // namespace

class ClusterTest : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        m_settings = test::integrationSettings();
        QVERIFY2(m_settings.redis.usesSentinels(),
                 "the cluster suite needs the replicated stack (COUPON_STACK_REDIS_REPLICA=1: redis.sentinels)");
        QVERIFY2(m_settings.kafka.properties.value(u"bootstrap.servers"_s).count(u',') >= 2,
                 "the cluster suite needs three brokers (COUPON_STACK_BROKERS=3)");
        QVERIFY2(!stackDir().isEmpty(), "COUPON_STACK_DIR is not set (scripts/test sets it)");
        (void)test::tokenFor(1); // the minter, made once before the load threads use it
        m_ops = std::make_unique<CampaignOps>(m_settings, u"cluster-test"_s);
        const Status connected = m_ops->connect();
        QVERIFY2(connected.ok(), qPrintable(connected.ok() ? QString() : connected.error().message));
        for (int i = 0; i < 2; ++i) {
            QVERIFY(startWorker(i));
            QVERIFY(startGateway(i));
        }
    }

    void cleanupTestCase()
    {
        for (auto &g : m_gateways)
            if (g)
                g->terminate();
        for (auto &w : m_workers)
            if (w)
                w->terminate();
    }

    // a) The broker leading partition 0 dies; the partition's leadership
    //    moves to an in-sync replica and applies go on.
    void aPartitionLeaderDies()
    {
        const int leader = leaderOf(0);
        QVERIFY2(leader >= 1 && leader <= 3, "no leader for partition 0");
        const QString name = leader == 1 ? u"kafka"_s : u"kafka%1"_s.arg(leader);
        runFault(u"leader"_s, [&] {
            const pid_t pid = stackPid(name);
            QVERIFY2(alive(pid), qPrintable(name + u" is not running"_s));
            QCOMPARE(::kill(pid, SIGKILL), 0);
            qInfo("killed %s (node %d, leader of partition 0)", qPrintable(name), leader);
        });
    }

    // b) The Redis master dies; Sentinel promotes the replica, the gateways,
    //    the workers and this test's own connections follow, and the
    //    campaign answers reconciling until it is rebuilt from the record.
    void bRedisMasterDies()
    {
        Result<RedisEndpoint> before = findRedisMaster(m_settings.redis);
        QVERIFY2(before.ok(), qPrintable(before.ok() ? QString() : before.error().message));
        // scripts/stack: the node born master listens on the stack's Redis
        // port, the one born replica on the next.
        const int stackPort = qEnvironmentVariableIntValue("COUPON_STACK_REDIS_PORT");
        QVERIFY2(before->port == stackPort || before->port == stackPort + 1, "the master is not a node of this stack");
        const QString name = before->port == stackPort ? u"redis"_s : u"redis-replica"_s;
        runFault(u"redis master"_s, [&] {
            const pid_t pid = stackPid(name);
            QVERIFY2(alive(pid), qPrintable(name + u" is not running"_s));
            QCOMPARE(::kill(pid, SIGKILL), 0);
            qInfo("killed the Redis master %s (%s)", qPrintable(name), qPrintable(before->text()));
        });
        Result<RedisEndpoint> after = findRedisMaster(m_settings.redis);
        QVERIFY2(after.ok() && *after != *before, "Sentinel did not promote the replica");
    }

    // c) A worker dies; the group gives its partitions to the other, which
    //    drains them (the audit waits for the drain).
    void cWorkerDies()
    {
        runFault(u"worker"_s, [&] {
            const qint64 pid = m_workers[0]->pid();
            m_workers[0]->kill9();
            qInfo("killed worker 0 (pid %lld)", pid);
        });
        m_workers[0].reset();
        QVERIFY(startWorker(0));
    }

    // d) A gateway dies; the other keeps answering (the load stops sending
    //    to the dead one, as a load balancer would after its health check).
    void dGatewayDies()
    {
        runFault(u"gateway"_s, [&] {
            const quint16 port = m_gateways[0]->port();
            m_gateways[0]->kill9();
            m_load->drop(port);
            qInfo("killed gateway 0 (port %d)", port);
        });
        m_gateways[0].reset();
        QVERIFY(startGateway(0));
    }

    // e) An in-sync follower stalls (frozen: SIGSTOP) while an apply is in
    //    flight. The leader has appended the message but cannot commit it
    //    until the follower is dropped from the ISR, past the producer's
    //    delivery timeout: the apply answers outcome_unknown and stays
    //    pending. Settlement must not release it on the strength of the
    //    high watermark: the message is committed moments later and becomes
    //    a coupon. Here the delivery timeout is 1 s (so the grace is 2 s)
    //    and the stack fences a silent broker after 4 s, so a settlement
    //    that trusts the high watermark decides in between.
    void eFollowerStallsWithAnApplyInFlight()
    {
        const QStringList fast{u"--set"_s, u"kafka.message.timeout.ms=1000"_s, u"--set"_s,
                               u"worker.reconcile.interval.ms=100"_s};
        for (int i = 0; i < 2; ++i) {
            m_workers[i]->terminate();
            QVERIFY(startWorker(i, fast));
        }
        struct Restore
        {
            ClusterTest *test;
            pid_t frozen = 0;
            ~Restore()
            {
                if (frozen > 0)
                    ::kill(frozen, SIGCONT);
                for (int i = 0; i < 2; ++i) {
                    test->m_workers[i]->terminate();
                    test->startWorker(i);
                }
                if (const QString up = stackUp(); !up.isEmpty())
                    qWarning("scripts/stack up: %s", qPrintable(up));
            }
        } restore{this};
        // The workers' waits use the longest delivery timeout any producer
        // announced: only the 1 s ones of this case count.
        QVERIFY(m_ops->redis().command({"DEL", kDeliveryTimeoutsKey}).ok());
        QVERIFY2(test::waitFor([&] { return m_ops->instance().ok(); }, 60000), "Redis does not answer the test");
        const QString campaign = test::openCampaign(*m_ops, u"stall"_s, 1000);
        const QStringList apply{u"--set"_s, u"kafka.message.timeout.ms=1000"_s, u"apply"_s, u"--campaign"_s, campaign,
                                u"--user"_s};

        // A first apply says where user 1 lands; the partitioner agrees.
        test::ProgramRun first = test::couponctl(apply + QStringList{u"1"_s});
        static const QRegularExpression landed(u"accepted ticket 1 partition ([0-9]+)"_s);
        const QRegularExpressionMatch where = landed.match(first.out);
        QVERIFY2(where.hasMatch(), qPrintable(first.text()));
        const int partition = where.captured(1).toInt();
        QCOMPARE(partitionOf(1, 3), partition);
        const auto [leader, follower] = leaderAndFollowerOf(partition);
        QVERIFY2(leader > 0 && follower > 0, "no leader and follower for the partition");
        qint64 user = 2;
        while (partitionOf(user, 3) != partition)
            ++user;

        // The apply goes through a gateway whose producer is up before the
        // freeze (a new one would first need its producer id, which the
        // frozen follower holds up too, and time out unsent).
        test::GatewayProcess gateway({u"--set"_s, u"kafka.message.timeout.ms=1000"_s});
        QVERIFY2(gateway.start(60000).isEmpty(), qPrintable(gateway.output()));
        QVERIFY2(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 60000),
                 "the gateway is not ready");
        qint64 elsewhere = user + 1; // a produce elsewhere: the gateway's producer has its id
        while (partitionOf(elsewhere, 3) == partition)
            ++elsewhere;
        QCOMPARE(test::apply(gateway.port(), applyPath(campaign), elsewhere).status, 202);
        // The group has committed everything so far: nothing else holds a
        // settlement back (a commit would wait on the frozen node too).
        QVERIFY2(test::waitFor(
                     [&] {
                         const Result<QList<PartitionLag>> lag = m_ops->lag();
                         return lag.ok() && LagProbe::total(*lag) == 0;
                     },
                     30000),
                 "the group did not drain before the freeze");

        const pid_t frozen = stackPid(follower == 1 ? u"kafka"_s : u"kafka%1"_s.arg(follower));
        QVERIFY(alive(frozen));
        QCOMPARE(::kill(frozen, SIGSTOP), 0);
        restore.frozen = frozen;
        const test::HttpResult stalled = test::apply(gateway.port(), applyPath(campaign), user);
        qInfo("follower node %d of partition %d frozen; user %lld: %d %s", follower, partition, user, stalled.status,
              stalled.body.constData());
        QVERIFY2(stalled.status == 503 && stalled.body.contains("outcome_unknown"), stalled.body.constData());

        // The follower is fenced (4 s), the message committed and consumed;
        // settlement has decided by then, one way or the other.
        QVERIFY2(test::waitFor(
                     [&] {
                         const Result<qint64> n = m_ops->store().couponCount(campaign);
                         return n.ok() && *n == 3;
                     },
                     30000),
                 "the stalled apply's message never became a coupon");
        ::kill(frozen, SIGCONT);
        restore.frozen = 0;
        AnsweredApplies answered;
        answered.accepted.insert(1);
        answered.accepted.insert(elsewhere);
        Result<AuditReport> audit = m_ops->audit(campaign, 60000, &answered);
        QVERIFY2(audit.ok(), qPrintable(audit.ok() ? QString() : audit.error().message));
        QVERIFY2(audit->ok, qPrintable(audit->violations.join(u"; "_s)));
        QCOMPARE(audit->status.redisCount, 3); // the stalled apply's reservation was kept, not released
    }

private:
    bool startWorker(int i, const QStringList &extraArgs = {})
    {
        m_workers[i] = std::make_unique<test::WorkerProcess>(extraArgs);
        const QString error = m_workers[i]->start(90000);
        if (!error.isEmpty())
            qWarning("worker %d: %s", i, qPrintable(error));
        return error.isEmpty();
    }
    bool startGateway(int i)
    {
        m_gateways[i] = std::make_unique<test::GatewayProcess>(QStringList{
            u"--set"_s, u"gateway.limit.address.rate=1000000"_s, u"--set"_s, u"gateway.limit.address.burst=1000000"_s});
        const QString error = m_gateways[i]->start(90000);
        if (!error.isEmpty())
            qWarning("gateway %d: %s", i, qPrintable(error));
        return error.isEmpty();
    }

    // The leader of `partition` and one other replica of it, from the
    // cluster's metadata ({-1, -1} when it cannot be read).
    std::pair<int, int> leaderAndFollowerOf(int partition)
    {
        Result<KafkaHandle> rk = newKafkaClient(RD_KAFKA_PRODUCER, m_settings, {}, {});
        if (!rk)
            return {-1, -1};
        Result<KafkaMetadataHandle> md = topicMetadata(rk->get(), m_settings.kafka.topic, 10000);
        if (!md)
            return {-1, -1};
        std::pair<int, int> found{-1, -1};
        const rd_kafka_metadata_topic_t &t = (*md)->topics[0];
        for (int p = 0; p < t.partition_cnt; ++p) {
            const rd_kafka_metadata_partition_t &mp = t.partitions[p];
            if (mp.id != partition)
                continue;
            found.first = mp.leader;
            for (int r = 0; r < mp.replica_cnt; ++r)
                if (mp.replicas[r] != mp.leader)
                    found.second = mp.replicas[r];
        }
        return found;
    }

    int leaderOf(int partition) { return leaderAndFollowerOf(partition).first; }

    // Load through both gateways; `fault` once applies flow; load on until
    // applies flow again after it (or a deadline); the audit, the direct
    // reads; then every server of the stack runs again.
    void runFault(const QString &what, const std::function<void()> &fault)
    {
        // This test's own Redis connection follows a failover on its next
        // call; the first after one may fail: ask until one succeeds.
        QVERIFY2(test::waitFor([&] { return m_ops->instance().ok(); }, 60000), "Redis does not answer the test");
        const QString campaign = test::openCampaign(*m_ops, u"cluster"_s, 1000000);
        QList<quint16> ports;
        for (auto &g : m_gateways)
            ports << g->port();
        m_load = std::make_unique<Load>(campaign, ports, m_nextUser);
        m_nextUser += 10000000;
        // However this case ends, the load stops and every server of the
        // stack runs again: a failure here must not leave the next case a
        // degraded stack.
        struct Restore
        {
            ClusterTest *test;
            ~Restore()
            {
                test->m_load->stop();
                if (const QString up = stackUp(); !up.isEmpty())
                    qWarning("scripts/stack up after the fault: %s", qPrintable(up));
            }
        } restore{this};
        m_load->start(6);
        QVERIFY2(test::waitFor([&] { return m_load->acceptedSince(0) >= 100; }, 30000),
                 "applies do not flow before the fault");
        const qint64 faultAt = m_load->nowMs();
        fault();
        if (QTest::currentTestFailed())
            return;
        // Applies flow again: 100 accepted after the fault, within 90 s.
        const bool flowing = test::waitFor([&] { return m_load->acceptedSince(faultAt + 1) >= 100; }, 90000);
        m_load->stop();
        const Load::Tally tally = m_load->tally();
        QStringList codes;
        for (auto it = tally.byCode.cbegin(); it != tally.byCode.cend(); ++it)
            codes << u"%1 x%2"_s.arg(it.key()).arg(it.value());
        const qint64 gap = m_load->longestGapMs(faultAt);
        qInfo("%s: longest stretch without a 202 after the fault: %lld ms; answers: %s", qPrintable(what), gap,
              qPrintable(codes.join(u", "_s)));
        QVERIFY2(flowing,
                 qPrintable(u"applies did not flow again within 90 s of the fault; answers: "_s + codes.join(u", "_s)));
        for (auto it = tally.byCode.cbegin(); it != tally.byCode.cend(); ++it)
            QVERIFY2(it.key().startsWith(u"202"_s) || it.key().startsWith(u"503"_s) || it.key().startsWith(u"0 "_s),
                     qPrintable(u"an answer a fault must not cause: "_s + it.key()));

        // The five invariants, with what each user was answered.
        QVERIFY2(test::waitFor([&] { return m_ops->instance().ok(); }, 60000), "Redis does not answer the test");
        Result<AuditReport> audit = m_ops->audit(campaign, 120000, &tally.answered);
        QVERIFY2(audit.ok(), qPrintable(audit.ok() ? QString() : audit.error().message));
        QVERIFY2(audit->ok, qPrintable(audit->violations.join(u"; "_s)));
        // Direct reads: MySQL holds every accepted user's coupon, and nothing
        // more than the accepted and the unknown; Redis agrees.
        QVERIFY(audit->status.coupons >= tally.answered.accepted.size());
        QVERIFY(audit->status.coupons <= tally.answered.accepted.size() + tally.unknown.size());
        QCOMPARE(audit->status.redisCount, audit->status.coupons);
        QCOMPARE(audit->status.pending, 0);
        qInfo("%s: %s", qPrintable(what), qPrintable(audit->summary));
    }

    Settings m_settings;
    std::unique_ptr<CampaignOps> m_ops;
    std::unique_ptr<test::WorkerProcess> m_workers[2];
    std::unique_ptr<test::GatewayProcess> m_gateways[2];
    std::unique_ptr<Load> m_load;
    qint64 m_nextUser = 1000000000;
};

QTEST_GUILESS_MAIN(ClusterTest)
#include "tst_cluster.moc"
