// coupon-worker's admin listener (worker.admin.listen) on the real stack:
// /healthz, /readyz (assigned, MySQL, Kafka, lag moving) and /metrics, and a
// worker that starts while MySQL or Kafka is down: it starts anyway, says
// why it is not ready, and becomes ready by itself when the dependency
// comes back (tcpproxy cuts and restores it).

#include "tcpproxy.h"
#include "testsupport.h"

#include <QTcpServer>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

QByteArray answer(quint16 port, const QByteArray &path)
{
    const test::HttpResult r = test::http(port, "GET", path);
    return QByteArray::number(r.status) + ' ' + r.body;
}

using test::metricSample;

quint16 kafkaPort(const Settings &settings)
{
    const QString first = settings.kafka.bootstrapServers().split(u',').first();
    return quint16(first.mid(first.lastIndexOf(u':') + 1).toUInt());
}

} // namespace

class TestWorkerAdmin : public QObject
{
    Q_OBJECT

private slots:
    void answersHealthReadinessAndMetrics()
    {
        test::WorkerProcess worker;
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        const quint16 admin = worker.adminPort();
        QVERIFY2(admin != 0, qPrintable(worker.output()));
        QByteArray ready;
        QVERIFY2(test::waitFor([&] { return (ready = answer(admin, "/readyz")).startsWith("200 "); }, 30000),
                 ready.constData());
        QCOMPARE(test::http(admin, "GET", "/healthz").status, 200);
        QCOMPARE(test::http(admin, "GET", "/nothing").status, 404);
        QCOMPARE(test::http(admin, "POST", "/metrics", "{}").status, 405);

        const test::HttpResult first = test::http(admin, "GET", "/metrics");
        QCOMPARE(first.status, 200);
        QVERIFY2(first.header("content-type").startsWith("text/plain; version=0.0.4"), first.body.constData());
        for (const QByteArray &series :
             {QByteArray("coupon_worker_consumed_total"), QByteArray("coupon_worker_inserted_total"),
              QByteArray("coupon_worker_duplicates_total"),
              QByteArray("coupon_worker_poison_total{reason=\"value_size\"}"),
              QByteArray("coupon_worker_over_limit_total"), QByteArray("coupon_worker_batch_messages_count"),
              QByteArray("coupon_worker_commit_duration_seconds_bucket{le=\"+Inf\"}"),
              QByteArray("coupon_worker_mysql_errors_total"),
              QByteArray("coupon_worker_rebalances_total{kind=\"assign\"}"),
              QByteArray("coupon_worker_up{dependency=\"mysql\"}"),
              QByteArray("coupon_worker_up{dependency=\"kafka\"}"), QByteArray("coupon_worker_ready"),
              QByteArray("coupon_worker_assigned_partitions"), QByteArray("coupon_worker_reconciler_leading"),
              QByteArray("coupon_worker_pending_oldest_age_seconds"),
              QByteArray("coupon_worker_reconciling_oldest_seconds"),
              QByteArray("coupon_worker_barriers_consumed_total"),
              QByteArray("coupon_worker_reconciler_barriers_total{result=\"ok\"}"),
              QByteArray("coupon_worker_reconciler_barrier_last_seconds")})
            QVERIFY2(metricSample(first.body, series) >= 0,
                     QByteArray(series + " missing:\n" + first.body).constData());
        QCOMPARE(metricSample(first.body, "coupon_worker_ready"), 1.0);
        QVERIFY(metricSample(first.body, "coupon_worker_rebalances_total{kind=\"assign\"}") >= 1);
        // Lag per partition, once the first fetches brought the watermarks.
        QByteArray lagPage;
        QVERIFY2(test::waitFor(
                     [&] {
                         lagPage = test::http(admin, "GET", "/metrics").body;
                         return lagPage.contains("coupon_worker_lag_messages{partition=\"");
                     },
                     10000),
                 lagPage.constData());

        // A message of 3 bytes (not a user id) is poison: counted by its
        // reason, with the batch it came in and that batch's commit.
        test::RawProducer producer(test::integrationSettings());
        const QString campaign = test::uniqueCampaign(u"wadmin"_s);
        producer.send(QByteArray("1"), QByteArray("abc"), test::protocolHeaders(campaign, 1));
        QByteArray page;
        QVERIFY2(test::waitFor(
                     [&] {
                         page = test::http(admin, "GET", "/metrics").body;
                         return metricSample(page, "coupon_worker_poison_total{reason=\"value_size\"}")
                             > metricSample(first.body, "coupon_worker_poison_total{reason=\"value_size\"}");
                     },
                     30000),
                 page.constData());
        QVERIFY(metricSample(page, "coupon_worker_consumed_total")
                > metricSample(first.body, "coupon_worker_consumed_total"));
        QVERIFY(metricSample(page, "coupon_worker_batch_messages_count")
                > metricSample(first.body, "coupon_worker_batch_messages_count"));
        QVERIFY(metricSample(page, "coupon_worker_commit_duration_seconds_count")
                > metricSample(first.body, "coupon_worker_commit_duration_seconds_count"));
        QCOMPARE(worker.terminate(30000), 0);
    }

    void settingIsCheckedAndCanBeOff()
    {
        {
            test::WorkerProcess bad({u"--set"_s, u"worker.admin.listen=nonsense"_s}, u"never"_s);
            QVERIFY(!bad.start(15000).isEmpty());
            QCOMPARE(bad.terminate(), 2);
            QVERIFY2(bad.output().contains(u"worker.admin.listen = \"nonsense\": must be host:port"_s),
                     qPrintable(bad.output()));
        }
        {
            test::WorkerProcess notAnAddress({u"--set"_s, u"worker.admin.listen=localhost:0"_s}, u"never"_s);
            QVERIFY(!notAnAddress.start(15000).isEmpty());
            QCOMPARE(notAnAddress.terminate(), 2);
            QVERIFY2(notAnAddress.output().contains(u"worker.admin.listen = \"localhost:0\": not an IP address"_s),
                     qPrintable(notAnAddress.output()));
        }
        {
            QTcpServer taken;
            QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
            test::WorkerProcess clash({u"--set"_s, u"worker.admin.listen=127.0.0.1:%1"_s.arg(taken.serverPort())},
                                      u"never"_s);
            QVERIFY(!clash.start(15000).isEmpty());
            QCOMPARE(clash.terminate(), 1);
            QVERIFY2(clash.output().contains(u"worker.admin.listen = \"127.0.0.1:%1\""_s.arg(taken.serverPort())),
                     qPrintable(clash.output()));
        }
        test::WorkerProcess off({u"--set"_s, u"worker.admin.listen=off"_s});
        QVERIFY2(off.start().isEmpty(), qPrintable(off.output()));
        QCOMPARE(off.adminPort(), quint16(0));
        QCOMPARE(off.terminate(30000), 0);
    }

    // A dependency unreachable at start (behind a proxy that refuses):
    // the worker starts, /readyz says which, /healthz stays 200 (waiting is
    // the loop turning, not hanging), and it becomes ready by itself.
    void startsWithDependencyDownAndBecomesReady_data()
    {
        QTest::addColumn<QString>("setting"); // the one pointed at the proxy
        QTest::addColumn<QByteArray>("reason");
        QTest::addColumn<QByteArray>("up"); // its coupon_worker_up series
        QTest::newRow("mysql") << u"mysql.port=%1"_s << QByteArray("MySQL")
                               << QByteArray("coupon_worker_up{dependency=\"mysql\"}");
        QTest::newRow("kafka") << u"kafka.bootstrap.servers=127.0.0.1:%1"_s << QByteArray("Kafka")
                               << QByteArray("coupon_worker_up{dependency=\"kafka\"}");
    }

    void startsWithDependencyDownAndBecomesReady()
    {
        QFETCH(QString, setting);
        QFETCH(QByteArray, reason);
        QFETCH(QByteArray, up);
        const Settings settings = test::integrationSettings();
        test::TcpProxy proxy(setting.startsWith(u"mysql"_s) ? settings.mysql.port : kafkaPort(settings));
        proxy.cut();
        test::WorkerProcess worker({u"--set"_s, setting.arg(proxy.port())},
                                   QString::fromLatin1(test::WorkerProcess::kAdminUp));
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        const quint16 admin = worker.adminPort();
        QByteArray ready;
        QVERIFY2(test::waitFor([&] { return (ready = answer(admin, "/readyz")).contains(reason); }, 20000),
                 ready.constData());
        QVERIFY2(ready.startsWith("503 "), ready.constData());
        QCOMPARE(test::http(admin, "GET", "/healthz").status, 200);
        QCOMPARE(metricSample(test::http(admin, "GET", "/metrics").body, up), 0.0);

        proxy.heal();
        QVERIFY2(test::waitFor([&] { return (ready = answer(admin, "/readyz")).startsWith("200 "); }, 60000),
                 QByteArray(ready + "\n" + worker.output().toUtf8()).constData());
        QCOMPARE(metricSample(test::http(admin, "GET", "/metrics").body, up), 1.0);
        QCOMPARE(worker.terminate(30000), 0);
    }
};

QTEST_GUILESS_MAIN(TestWorkerAdmin)
#include "tst_worker_admin.moc"
