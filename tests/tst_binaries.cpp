#include "coupon/version.h"
#include "testsupport.h"

#include <QProcess>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

using Run = coupon::test::ProgramRun;

Run run(const QString &program, const QStringList &args)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"COUPON_CONFIG"_s); // the binaries must answer without any configuration
    return coupon::test::runProgram(program, args, env, 30000);
}

} // namespace

class TestBinaries : public QObject
{
    Q_OBJECT

private slots:
    void answers_data()
    {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QString>("name");
        QTest::newRow("worker") << QStringLiteral(COUPON_WORKER_BIN) << u"coupon-worker"_s;
        QTest::newRow("gateway") << QStringLiteral(COUPON_GATEWAY_BIN) << u"coupon-gateway"_s;
#ifdef COUPON_CONSOLE_BIN
        QTest::newRow("console") << QStringLiteral(COUPON_CONSOLE_BIN) << u"coupon-console"_s;
#endif
        QTest::newRow("couponctl") << QStringLiteral(COUPONCTL_BIN) << u"couponctl"_s;
    }

    void answers()
    {
        QFETCH(QString, program);
        QFETCH(QString, name);

        const Run help = run(program, {u"--help"_s});
        QCOMPARE(help.exitCode, 0);
        QVERIFY2(help.out.contains(u"Usage:"_s), qPrintable(help.out + help.err));
        QVERIFY(help.out.contains(u"--config"_s));

        const Run version = run(program, {u"--version"_s});
        QCOMPARE(version.exitCode, 0);
        QCOMPARE(version.out.trimmed(), name + u' ' + QString::fromLatin1(coupon::kVersion));

        const Run badFlag = run(program, {u"--no-such-flag"_s});
        QCOMPARE(badFlag.exitCode, 2);
        QVERIFY2(badFlag.err.contains(u"no-such-flag"_s), qPrintable(badFlag.err));

        const Run badSetting = run(program, {u"--set"_s, u"redis.port=abc"_s, u"--print-config"_s});
        QCOMPARE(badSetting.exitCode, 2);
        QVERIFY2(badSetting.err.contains(u"redis.port = \"abc\""_s), qPrintable(badSetting.err));

        const Run printed = run(program, {u"--set"_s, u"mysql.password=topsecret"_s, u"--print-config"_s});
        QCOMPARE(printed.exitCode, 0);
        QVERIFY(printed.out.contains(u"mysql.password = ***"_s));
        QVERIFY(!printed.out.contains(u"topsecret"_s));
    }
};

QTEST_GUILESS_MAIN(TestBinaries)
#include "tst_binaries.moc"
