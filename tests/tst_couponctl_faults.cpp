// couponctl while a server is gone: a command connects only what it uses,
// so `lag` (Kafka) and `apply` (Redis, Kafka) work while MySQL is down, and
// the commands that need MySQL say so. The real couponctl binary; MySQL and
// Redis through TcpProxy, cut.

#include "coupon/service/campaigns.h"
#include "tcpproxy.h"
#include "testsupport.h"

#include <QProcess>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

using Run = test::ProgramRun;
using test::couponctl;

} // namespace

class TestCouponctlFaults : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    std::unique_ptr<CampaignOps> m_ops;

private slots:
    void initTestCase()
    {
        m_ops = std::make_unique<CampaignOps>(m_settings, u"tst_couponctl_faults"_s);
        QVERIFY(m_ops->connect().ok());
    }

    // lag asks only Kafka: MySQL and Redis both gone change nothing.
    void lagNeedsOnlyKafka()
    {
        test::TcpProxy mysql(m_settings.mysql.port);
        test::TcpProxy redis(m_settings.redis.port);
        const QStringList viaProxies{u"--set"_s, u"mysql.port=%1"_s.arg(mysql.port()), u"--set"_s,
                                     u"redis.port=%1"_s.arg(redis.port())};
        mysql.cut();
        redis.cut();

        const Run lag = couponctl(viaProxies + QStringList{u"lag"_s});
        QVERIFY2(lag.exitCode == 0, qPrintable(lag.text()));
        QVERIFY2(lag.out.contains(u"total lag "_s), qPrintable(lag.text()));

        // A command that needs MySQL still fails, and says why...
        const Run list = couponctl(viaProxies + QStringList{u"campaign"_s, u"list"_s});
        QVERIFY2(list.exitCode == 1, qPrintable(list.text()));
        QVERIFY2(list.err.contains(u"MySQL"_s, Qt::CaseInsensitive), qPrintable(list.text()));
        // ...and the same works through the proxies once they heal.
        mysql.heal();
        redis.heal();
        const Run healed = couponctl(viaProxies + QStringList{u"campaign"_s, u"list"_s});
        QVERIFY2(healed.exitCode == 0, qPrintable(healed.text()));
    }

    // apply and simulate (in process) use Redis and Kafka; simulate --audit
    // needs MySQL and says so before it applies anything.
    void applyNeedsNoMysql()
    {
        const QString campaign = test::openCampaign(*m_ops, u"ctl-nomysql"_s, 100);
        test::TcpProxy mysql(m_settings.mysql.port);
        const QStringList viaProxy{u"--set"_s, u"mysql.port=%1"_s.arg(mysql.port())};
        mysql.cut();

        const Run apply = couponctl(viaProxy + QStringList{u"apply"_s, u"--campaign"_s, campaign, u"--user"_s, u"1"_s});
        QVERIFY2(apply.exitCode == 0, qPrintable(apply.text()));
        QVERIFY2(apply.out.startsWith(u"accepted ticket 1"_s), qPrintable(apply.text()));

        const Run simulate = couponctl(
            viaProxy
            + QStringList{u"simulate"_s, u"--campaign"_s, campaign, u"--users"_s, u"10"_s, u"--first-user"_s, u"2"_s});
        QVERIFY2(simulate.exitCode == 0, qPrintable(simulate.text()));
        QCOMPARE(m_ops->status(campaign).value().redisCount, 11);

        const Run audited = couponctl(viaProxy
                                      + QStringList{u"simulate"_s, u"--campaign"_s, campaign, u"--users"_s, u"10"_s,
                                                    u"--first-user"_s, u"100"_s, u"--audit"_s});
        QVERIFY2(audited.exitCode == 1, qPrintable(audited.text()));
        QVERIFY2(audited.err.contains(u"MySQL"_s, Qt::CaseInsensitive), qPrintable(audited.text()));
        QCOMPARE(m_ops->status(campaign).value().redisCount, 11); // nothing applied
    }
};

QTEST_GUILESS_MAIN(TestCouponctlFaults)
#include "tst_couponctl_faults.moc"
