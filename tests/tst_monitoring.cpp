// The monitoring kit against the real thing: a coupon-gateway and a
// coupon-worker on the real stack, their live /metrics pages checked by
// `promtool check metrics` (the exposition format and Prometheus' naming
// rules), and every metric the alert rules and the dashboard query found
// on them (scripts/check-monitoring --metrics).

#include "testsupport.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

// promtool check metrics reads the page on stdin; its findings, empty when none.
QString promtoolFindings(const QByteArray &page)
{
    QProcess promtool;
    promtool.setProcessChannelMode(QProcess::MergedChannels);
    promtool.start(u"promtool"_s, {u"check"_s, u"metrics"_s});
    if (!promtool.waitForStarted(10000))
        return u"promtool did not start: "_s + promtool.errorString();
    promtool.write(page);
    promtool.closeWriteChannel();
    if (!promtool.waitForFinished(30000))
        return u"promtool did not finish"_s;
    const QString out = QString::fromUtf8(promtool.readAll());
    return promtool.exitCode() == 0 && out.trimmed().isEmpty() ? QString()
                                                               : u"exit %1: %2"_s.arg(promtool.exitCode()).arg(out);
}

} // namespace

class TestMonitoring : public QObject
{
    Q_OBJECT

private slots:
    void kitMatchesLiveMetrics()
    {
        test::WorkerProcess worker;
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        test::GatewayProcess gateway;
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        QVERIFY(test::waitFor([&] { return test::http(worker.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        // An answer of each kind the 5xx ratio reads.
        QCOMPARE(test::apply(gateway.port(), "/api/v1/campaigns/no-such-campaign-x/applications", 1).status, 404);

        QTemporaryDir dir;
        QStringList pages;
        for (const auto &[name, port] :
             {std::pair{u"gateway"_s, gateway.adminPort()}, std::pair{u"worker"_s, worker.adminPort()}}) {
            const test::HttpResult metrics = test::http(port, "GET", "/metrics");
            QCOMPARE(metrics.status, 200);
            const QString findings = promtoolFindings(metrics.body);
            QVERIFY2(findings.isEmpty(), qPrintable(name + u": "_s + findings));
            QFile file(dir.filePath(name + u".txt"_s));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(metrics.body);
            pages << file.fileName();
        }
        const test::ProgramRun check = test::runProgram(QStringLiteral(COUPON_CHECK_MONITORING),
                                                        QStringList{u"--metrics"_s} + pages,
                                                        QProcessEnvironment::systemEnvironment(), 60000);
        QVERIFY2(check.exitCode == 0, qPrintable(check.text()));
        QCOMPARE(gateway.terminate(15000), 0);
        QCOMPARE(worker.terminate(30000), 0);
    }
};

QTEST_GUILESS_MAIN(TestMonitoring)
#include "tst_monitoring.moc"
