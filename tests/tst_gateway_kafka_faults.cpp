// Kafka gone, for the gateway: a real broker can't be scripted to vanish and
// come back inside a test, so this one uses librdkafka's mock cluster (in
// this process) as the gateway's Kafka; Redis stays the real one.

#include "coupon/kafka/kafka_handles.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <librdkafka/rdkafka_mock.h>

#include <QElapsedTimer>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

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

        char errstr[512];
        KafkaConfHandle conf(rd_kafka_conf_new());
        KafkaHandle host(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
        QVERIFY2(host, errstr);
        conf.release(); // owned by `host`
        rd_kafka_mock_cluster_t *mock = rd_kafka_mock_cluster_new(host.get(), 1);
        QVERIFY(mock);
        auto destroy = qScopeGuard([mock] { rd_kafka_mock_cluster_destroy(mock); });
        QCOMPARE(rd_kafka_mock_topic_create(mock, m_settings.kafka.topic.toUtf8().constData(), 3, 1),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
        const QString bootstraps = QString::fromLatin1(rd_kafka_mock_cluster_bootstraps(mock));

        test::GatewayProcess gateway(
            {u"--set"_s, u"kafka.bootstrap.servers="_s + bootstraps, u"--set"_s, u"kafka.message.timeout.ms=3000"_s});
        const QString started = gateway.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QVERIFY(test::waitFor([&] { return test::http(gateway.port(), "GET", "/readyz").status == 200; }, 30000));
        QCOMPARE(test::http(gateway.port(), "POST", path, body(1)).status, 202);

        rd_kafka_mock_broker_set_down(mock, 1);
        QVERIFY2(test::waitFor([&] { return test::http(gateway.port(), "GET", "/readyz").status == 503; }, 20000),
                 "readyz did not notice Kafka going away");
        QElapsedTimer clock;
        clock.start();
        const test::HttpResult down = test::http(gateway.port(), "POST", path, body(2));
        QCOMPARE(down.status, 503);
        QVERIFY(!down.header("retry-after").isEmpty());
        QVERIFY2(clock.elapsed() < 2000, qPrintable(u"503 took %1 ms"_s.arg(clock.elapsed())));
        // Refused before anything was reserved.
        QCOMPARE(ops.status(campaign).value().redisCount, 1);

        rd_kafka_mock_broker_set_up(mock, 1);
        // A fresh user per try: a try caught mid-recovery may stay reserved (uncertain).
        qint64 user = 100;
        QVERIFY2(
            test::waitFor([&] { return test::http(gateway.port(), "POST", path, body(++user)).status == 202; }, 30000),
            "the gateway did not recover after Kafka came back");
        QCOMPARE(gateway.terminate(15000), 0);
    }
};

QTEST_GUILESS_MAIN(TestGatewayKafkaFaults)
#include "tst_gateway_kafka_faults.moc"
