// How the services log (worker/service_log.h): logfmt lines whose values
// survive quotes and newlines, log.level dropping what is below it, and a
// real coupon-gateway's log with a password in its settings never showing it.
#include "service_log.h"
#include "testsupport.h"

#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcProbe, "coupon.probe")

class TestServiceLog : public QObject
{
    Q_OBJECT

private slots:
    void linesAreLogfmt()
    {
        const QByteArray line = coupon::formatLogLine(u"warning"_s, u"coupon.reconciler"_s,
                                                      u"campaign \"a\": rebuilt\nnext\\line"_s);
        static const QRegularExpression shape(
            uR"(^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=warning cat=coupon\.reconciler msg="campaign \\"a\\": rebuilt\\nnext\\\\line"\n$)"_s);
        QVERIFY2(shape.match(QString::fromUtf8(line)).hasMatch(), line.constData());
        // One plain word stays bare.
        QVERIFY(coupon::formatLogLine(u"info"_s, u"c"_s, u"started"_s).endsWith(" level=info cat=c msg=started\n"));
        QVERIFY(coupon::formatLogLine(u"info"_s, u"c"_s, QString()).endsWith(" msg=\"\"\n"));
    }

    void levelDropsWhatIsBelowIt()
    {
        coupon::setServiceLogLevel(u"warning"_s);
        QVERIFY(!lcProbe().isInfoEnabled());
        QVERIFY(lcProbe().isWarningEnabled());
        coupon::setServiceLogLevel(u"error"_s);
        QVERIFY(!lcProbe().isWarningEnabled());
        QVERIFY(lcProbe().isCriticalEnabled());
        coupon::setServiceLogLevel(u"debug"_s);
        QVERIFY(lcProbe().isDebugEnabled());
        coupon::setServiceLogLevel(u"info"_s);
        QVERIFY(!lcProbe().isDebugEnabled());
        QVERIFY(lcProbe().isInfoEnabled());
    }

    // A gateway whose Redis and Kafka refuse it logs why, in logfmt, and
    // never the passwords it was given.
    void aServiceLogsNoSecret()
    {
        const QString secret = u"s3cret-VALUE-%1"_s.arg(QDateTime::currentMSecsSinceEpoch());
        coupon::test::GatewayProcess gateway(
            {u"--set"_s, u"gateway.auth=none"_s, u"--set"_s, u"redis.port=1"_s, u"--set"_s, u"redis.user=someone"_s,
             u"--set"_s, u"redis.password="_s + secret, u"--set"_s, u"kafka.bootstrap.servers=127.0.0.1:1"_s,
             u"--set"_s, u"kafka.sasl.password="_s + secret, u"--set"_s, u"mysql.password="_s + secret, u"--set"_s,
             u"log.level=info"_s});
        QVERIFY2(gateway.start(30000).isEmpty(), qPrintable(gateway.output()));
        // It says Kafka refuses it (in logfmt: librdkafka's own lines too).
        QVERIFY2(coupon::test::waitFor(
                     [&] { return gateway.output().contains(u"level=warning cat=coupon.kafka.client msg="_s); }, 15000),
                 qPrintable(gateway.output()));
        static const QRegularExpression notLogfmt(u"^(?!ts=\\S+ level=\\w+ cat=\\S+ msg=)(?!coupon-gateway: )"_s,
                                                  QRegularExpression::MultilineOption);
        const QString out = gateway.output().trimmed();
        const QRegularExpressionMatch other = notLogfmt.match(out);
        QVERIFY2(!other.hasMatch(), qPrintable(u"a line not in logfmt: "_s + out.mid(other.capturedStart(), 200)));
        QCOMPARE(gateway.terminate(), 0);
        QVERIFY2(!gateway.output().contains(secret), "a password reached the log");
    }
};

QTEST_GUILESS_MAIN(TestServiceLog)
#include "tst_service_log.moc"
