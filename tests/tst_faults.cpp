// Outages a real server can't script: MySQL and Redis cut by a TCP proxy in
// front of the real servers, a fabricated fatal error in the real idempotent
// producer, Redis' script cache flushed. Nothing may be lost or doubled.

#include "coupon/loadgen/simulation.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "tcpproxy.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QMutex>
#include <QTest>

#include <atomic>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestFaults : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    std::unique_ptr<CampaignOps> m_ops;

    QString openCampaign(const QString &prefix, qint64 limit) { return test::openCampaign(*m_ops, prefix, limit); }

private slots:
    void initTestCase()
    {
        m_ops = std::make_unique<CampaignOps>(m_settings, u"tst_faults"_s);
        const Status connected = m_ops->connect();
        QVERIFY2(connected.ok(), qPrintable(connected.ok() ? QString() : connected.error().message));
    }

    // MySQL gone: the worker commits nothing, pauses, backs off, and resumes
    // by itself when MySQL is back; every accepted apply ends as one coupon.
    void workerRidesOutAMysqlOutage()
    {
        test::TcpProxy mysql(m_settings.mysql.port);
        test::WorkerProcess worker({u"--set"_s, u"mysql.port=%1"_s.arg(mysql.port())});
        const QString started = worker.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QVERIFY(m_ops->waitForDrain(60000).ok());

        const QString campaign = openCampaign(u"mysql-outage"_s, 2000);
        mysql.cut();
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(m_settings);
        QVERIFY(service.ok());
        SimulationOptions options;
        options.campaign = campaign;
        options.users = 2000;
        options.concurrency = 64;
        const SimulationReport report = simulate(**service, options);
        QCOMPARE(report.count(ApplyOutcome::Accepted), 2000);

        QVERIFY2(test::waitFor([&] { return worker.output().contains(u"partitions paused"_s); }, 30000),
                 qPrintable(worker.output()));
        // Nothing of it is in MySQL, and nothing of it was committed in Kafka.
        QCOMPARE(m_ops->store().couponCount(campaign).value(), 0);
        const Result<QList<PartitionLag>> lag = m_ops->lag();
        QVERIFY(lag.ok());
        QCOMPARE(LagProbe::total(*lag), 2000);

        mysql.heal();
        Result<AuditReport> audit = m_ops->audit(campaign, 120000, &report.answered);
        QVERIFY2(audit.ok(),
                 qPrintable(audit.ok() ? QString() : audit.error().message + u"\n"_s + worker.output().right(4000)));
        QVERIFY2(audit->ok, qPrintable(audit->violations.join(u"; "_s)));
        QCOMPARE(m_ops->store().couponCount(campaign).value(), 2000);
        QVERIFY2(test::waitFor([&] { return worker.output().contains(u"partitions resumed"_s); }, 10000),
                 qPrintable(worker.output().right(800)));
        QCOMPARE(worker.terminate(), 0);
    }

    // Redis gone: applies answer Unavailable at once (bounded by the
    // timeouts), and work again by themselves when Redis is back.
    void applyAnswersQuicklyWithoutRedisAndHeals()
    {
        const QString campaign = openCampaign(u"redis-outage"_s, 10);
        test::TcpProxy redis(m_settings.redis.port);
        Settings viaProxy = m_settings;
        viaProxy.redis.port = redis.port();
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(viaProxy, {2});
        QVERIFY(service.ok());
        QCOMPARE(toString((*service)->applyAndWait(campaign, 1).status), toString(ApplyOutcome::Accepted));

        redis.cut();
        QElapsedTimer clock;
        clock.start();
        const ApplyResult down = (*service)->applyAndWait(campaign, 2);
        // The cut closed the connection under it: a command written to it may
        // or may not have reached Redis, and only a refused connect is sure.
        QVERIFY2(down.status == ApplyOutcome::Unavailable || down.status == ApplyOutcome::Uncertain,
                 qPrintable(toString(down.status)));
        // connect + command timeouts are 1 s each; generous bound for a loaded box
        QVERIFY2(clock.elapsed() < 5000, qPrintable(u"took %1 ms"_s.arg(clock.elapsed())));
        QVERIFY2(down.detail.contains(u"Redis"_s), qPrintable(down.detail));

        redis.heal();
        QCOMPARE(toString((*service)->applyAndWait(campaign, 3).status), toString(ApplyOutcome::Accepted));
        service.value().reset();
        test::WorkerProcess worker;
        QVERIFY(worker.start().isEmpty());
        AnsweredApplies answered;
        answered.accepted = {1, 3};
        answered.rejected = {2};
        Result<AuditReport> audit = m_ops->audit(campaign, 60000, &answered);
        QVERIFY2(audit.ok() && audit->ok,
                 qPrintable(audit.ok() ? audit->violations.join(u"; "_s) : audit.error().message));
        QCOMPARE(worker.terminate(), 0);
    }

    // A fatal producer error (as a fenced epoch would raise) recreates the
    // producer; applies in flight are answered, none hangs, later ones work.
    void fatalProducerErrorRecreatesTheProducer()
    {
        const QString campaign = openCampaign(u"fatal"_s, 1000);
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(m_settings);
        QVERIFY(service.ok());
        ApplyService &s = **service;
        QCOMPARE(toString(s.applyAndWait(campaign, 1).status), toString(ApplyOutcome::Accepted));

        std::atomic<int> answered{0};
        QMutex mutex;
        AnsweredApplies answers;
        answers.accepted.insert(1);
        for (qint64 user = 100; user < 400; ++user) {
            s.apply(campaign, user, [&, user](const ApplyResult &r) {
                QMutexLocker lock(&mutex);
                if (r.status == ApplyOutcome::Accepted)
                    answers.accepted.insert(user);
                else if (r.status != ApplyOutcome::Uncertain)
                    answers.rejected.insert(user);
                answered.fetch_add(1);
            });
            if (user == 150)
                s.producer().raiseFatalErrorForTest();
        }
        QVERIFY2(test::waitFor([&] { return answered.load() == 300; }, 30000),
                 qPrintable(u"%1 of 300 applies answered"_s.arg(answered.load())));
        QVERIFY2(test::waitFor([&] { return s.producer().recreations() >= 1; }, 30000),
                 "the producer was not recreated");
        QCOMPARE(toString(s.applyAndWait(campaign, 5000).status), toString(ApplyOutcome::Accepted));
        answers.accepted.insert(5000);
        service.value().reset();

        test::WorkerProcess worker;
        QVERIFY(worker.start().isEmpty());
        Result<AuditReport> audit = m_ops->audit(campaign, 120000, &answers);
        QVERIFY2(audit.ok() && audit->ok,
                 qPrintable(audit.ok() ? audit->violations.join(u"; "_s) : audit.error().message));
        QCOMPARE(worker.terminate(), 0);
    }

    // SCRIPT FLUSH (or a Redis restart) empties the script cache: EVALSHA
    // gets NOSCRIPT, the script is loaded again and the apply goes through.
    void scriptCacheFlushIsHealed()
    {
        const QString campaign = openCampaign(u"noscript"_s, 10);
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(m_settings, {1});
        QVERIFY(service.ok());
        QVERIFY(m_ops->redis().command({"SCRIPT", "FLUSH"}).ok());
        QCOMPARE(toString((*service)->applyAndWait(campaign, 1).status), toString(ApplyOutcome::Accepted));
        QVERIFY(m_ops->redis().command({"SCRIPT", "FLUSH"}).ok());
        QCOMPARE(toString((*service)->applyAndWait(campaign, 1).status), toString(ApplyOutcome::Duplicate));
    }
};

QTEST_GUILESS_MAIN(TestFaults)
#include "tst_faults.moc"
