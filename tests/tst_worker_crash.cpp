// kill -9 of the worker in the middle of draining 10 000 accepted applies,
// then a restart: exactly 10 000 coupons, none doubled, none lost.

#include "coupon/loadgen/simulation.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestWorkerCrash : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();

private slots:
    void killNineMidDrainLosesAndDoublesNothing()
    {
        CampaignOps ops(m_settings, u"tst_worker_crash"_s);
        const Status connected = ops.connect();
        QVERIFY2(connected.ok(), qPrintable(connected.ok() ? QString() : connected.error().message));

        // Start from a drained topic so the backlog below is ours alone.
        {
            test::WorkerProcess settle;
            const QString started = settle.start();
            QVERIFY2(started.isEmpty(), qPrintable(started));
            QVERIFY2(ops.waitForDrain(120000).ok(), "could not drain earlier messages");
            QCOMPARE(settle.terminate(), 0);
        }

        Campaign c;
        c.id = test::uniqueCampaign(u"crash"_s);
        c.limit = 10000;
        QVERIFY(ops.create(c).ok());
        QVERIFY(ops.open(c.id).ok());

        // 10 000 accepted applies wait in the topic while no worker runs.
        SimulationReport report;
        {
            Result<std::unique_ptr<ApplyService>> service = ApplyService::create(m_settings);
            QVERIFY2(service.ok(), qPrintable(service.ok() ? QString() : service.error().message));
            SimulationOptions options;
            options.campaign = c.id;
            options.users = 10000;
            options.concurrency = 256;
            report = simulate(**service, options);
        }
        QCOMPARE(report.count(ApplyOutcome::Accepted), 10000);
        QCOMPARE(ops.store().couponCount(c.id).value(), 0);

        // Small batches keep the drain slow enough to be caught in the middle.
        qint64 atKill = 0;
        {
            test::WorkerProcess victim({u"--set"_s, u"worker.batch.size=20"_s});
            const QString started = victim.start();
            QVERIFY2(started.isEmpty(), qPrintable(started));
            QVERIFY2(test::waitFor([&] { return ops.store().couponCount(c.id).value() >= 200; }, 60000),
                     "the worker wrote nothing");
            victim.kill9();
            atKill = ops.store().couponCount(c.id).value();
        }
        QVERIFY2(atKill < 10000, qPrintable(u"the drain finished before the kill (%1)"_s.arg(atKill)));

        test::WorkerProcess successor;
        const QString started = successor.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        Result<AuditReport> audit = ops.audit(c.id, 120000, &report.answered);
        QVERIFY2(audit.ok(), qPrintable(audit.ok() ? QString() : audit.error().message));
        QVERIFY2(audit->ok, qPrintable(audit->violations.join(u"; "_s)));
        QCOMPARE(ops.store().couponCount(c.id).value(), 10000);
        QCOMPARE(ops.store().duplicateHolders(c.id).value(), 0);
        QCOMPARE(ops.store().campaign(c.id).value()->issued, 10000);
        QCOMPARE(successor.terminate(), 0);
        qInfo("killed at %lld of 10000 coupons; after the restart: %s", static_cast<long long>(atKill),
              qPrintable(audit->summary));
    }
};

QTEST_GUILESS_MAIN(TestWorkerCrash)
#include "tst_worker_crash.moc"
