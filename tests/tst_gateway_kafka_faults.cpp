// Kafka gone, for the gateway: a real broker can't be scripted to vanish and
// come back inside a test, so this one uses librdkafka's mock cluster (in
// this process) as the gateway's Kafka; Redis stays the real one.

#include "coupon/kafka/kafka_handles.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <librdkafka/rdkafka_mock.h>

#include <QElapsedTimer>
#include <QTest>

#include <vector>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

// Kafka protocol request types (ApiKey), for rd_kafka_mock_push_request_errors.
constexpr int16_t kOffsetFetch = 9;
constexpr int16_t kFindCoordinator = 10;

// /readyz's status and, when not 200, its body (the reason).
QByteArray readyzAnswer(quint16 port)
{
    const test::HttpResult r = test::http(port, "GET", "/readyz");
    return QByteArray::number(r.status) + ' ' + r.body;
}

// librdkafka's mock cluster (one broker, in this process) with the topic in
// 3 partitions, as a gateway's Kafka.
struct MockKafka
{
    KafkaHandle host;
    rd_kafka_mock_cluster_t *mock = nullptr;
    QByteArray topic;

    explicit MockKafka(const QString &topicName)
        : topic(topicName.toUtf8())
    {
        char errstr[512];
        KafkaConfHandle conf(rd_kafka_conf_new());
        host.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
        if (!host)
            qFatal("mock cluster host: %s", errstr);
        conf.release(); // owned by `host`
        mock = rd_kafka_mock_cluster_new(host.get(), 1);
        if (mock && rd_kafka_mock_topic_create(mock, topic.constData(), 3, 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
            qFatal("mock cluster: cannot create the topic");
    }
    ~MockKafka()
    {
        if (mock)
            rd_kafka_mock_cluster_destroy(mock);
    }
    MockKafka(const MockKafka &) = delete;
    MockKafka &operator=(const MockKafka &) = delete;

    QStringList gatewayArgs() const
    {
        return {u"--set"_s, u"kafka.bootstrap.servers="_s + QString::fromLatin1(rd_kafka_mock_cluster_bootstraps(mock)),
                u"--set"_s, u"kafka.security.protocol=plaintext"_s, // the mock knows no SASL
                u"--set"_s, u"kafka.message.timeout.ms=3000"_s};
    }
};

} // namespace

class TestGatewayKafkaFaults : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();

private slots:
    void kafkaOutageAnswers503AndHeals()
    {
        CampaignOps ops(m_settings, u"tst_gateway_kafka_faults"_s);
        QVERIFY(ops.connect().ok());
        const QString campaign = test::openCampaign(ops, u"gw-kafka"_s, 100);
        const QByteArray path = "/api/v1/campaigns/" + campaign.toLatin1() + "/applications";
        auto body = [](qint64 user) { return QByteArray("{\"userId\":" + QByteArray::number(user) + '}'); };

        MockKafka kafka(m_settings.kafka.topic);
        QVERIFY2(kafka.mock, "no mock cluster");
        rd_kafka_mock_cluster_t *mock = kafka.mock;
        test::GatewayProcess gateway(kafka.gatewayArgs());
        const QString started = gateway.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        QCOMPARE(test::apply(gateway.port(), path, 1).status, 202);

        rd_kafka_mock_broker_set_down(mock, 1);
        QVERIFY2(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 503; }, 20000),
                 "readyz did not notice Kafka going away");
        QElapsedTimer clock;
        clock.start();
        const test::HttpResult down = test::apply(gateway.port(), path, 2);
        QCOMPARE(down.status, 503);
        QVERIFY(!down.header("retry-after").isEmpty());
        QVERIFY2(clock.elapsed() < 2000, qPrintable(u"503 took %1 ms"_s.arg(clock.elapsed())));
        // Refused before anything was reserved.
        QCOMPARE(ops.status(campaign).value().redisCount, 1);

        // A broker back from a restart answers the group coordinator's
        // requests with COORDINATOR_LOAD_IN_PROGRESS until it has loaded
        // __consumer_offsets (here for minutes). Applies need only the
        // producer, so readiness must not wait for the coordinator.
        const std::vector<rd_kafka_resp_err_t> loading(2000, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
        rd_kafka_mock_push_request_errors_array(mock, kOffsetFetch, loading.size(), loading.data());
        rd_kafka_mock_push_request_errors_array(mock, kFindCoordinator, loading.size(), loading.data());
        rd_kafka_mock_broker_set_up(mock, 1);
        clock.restart();
        QByteArray readyz;
        // The aim is 2 s (the producer reconnects within 1 s, the probe asks
        // every 0.5 s); 5 s leaves room for a slow machine.
        const bool ready = test::waitFor(
            [&] {
                readyz = readyzAnswer(gateway.adminPort());
                return readyz.startsWith("200 ");
            },
            5000);
        QVERIFY2(ready, QByteArray("readyz not 200 within 5 s of the broker's return: " + readyz).constData());
        qInfo("broker back -> /readyz 200 after %lld ms", static_cast<long long>(clock.elapsed()));
        // A fresh user per try: a try caught mid-recovery may stay reserved (uncertain).
        qint64 user = 100;
        QVERIFY2(test::waitFor([&] { return test::apply(gateway.port(), path, ++user).status == 202; }, 30000),
                 "the gateway did not recover after Kafka came back");
        QCOMPARE(gateway.terminate(15000), 0);
    }

    // Readiness needs a leader for every partition of the topic: an apply's
    // message may go to any of them.
    void partitionWithoutLeaderIsNotReady()
    {
        MockKafka kafka(m_settings.kafka.topic);
        QVERIFY2(kafka.mock, "no mock cluster");
        test::GatewayProcess gateway(kafka.gatewayArgs());
        const QString started = gateway.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QByteArray readyz;
        auto readyzStartsWith = [&](const QByteArray &prefix) {
            readyz = readyzAnswer(gateway.adminPort());
            return readyz.startsWith(prefix);
        };
        QVERIFY(test::waitFor([&] { return readyzStartsWith("200 "); }, 30000));

        QCOMPARE(rd_kafka_mock_partition_set_leader(kafka.mock, kafka.topic.constData(), 1, -1),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
        QVERIFY2(test::waitFor([&] { return readyzStartsWith("503 "); }, 20000), readyz.constData());
        // The admin listener is the operator's: its answer has the detail; the clients' port has no /readyz.
        QVERIFY2(readyz.contains("has no leader"), readyz.constData());
        QCOMPARE(test::http(gateway.port(), "GET", "/readyz").status, 404);
        QVERIFY2(test::waitFor(
                     [&] {
                         return gateway.output().contains(u"partition 1 of "_s + QString::fromLatin1(kafka.topic)
                                                          + u" has no leader"_s);
                     },
                     5000),
                 qPrintable(gateway.output().right(800)));

        QCOMPARE(rd_kafka_mock_partition_set_leader(kafka.mock, kafka.topic.constData(), 1, 1),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
        QVERIFY2(test::waitFor([&] { return readyzStartsWith("200 "); }, 20000), readyz.constData());
        QCOMPARE(gateway.terminate(15000), 0);
    }
};

QTEST_GUILESS_MAIN(TestGatewayKafkaFaults)
#include "tst_gateway_kafka_faults.moc"
