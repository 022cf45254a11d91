// The run history the console and couponctl share: a record survives the
// JSON round trip, the folder keeps the newest runs, and the sampler makes
// intervals out of a live progress.

#include "coupon/loadgen/run_record.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestRunRecord : public QObject
{
    Q_OBJECT

private:
    static RunRecord sampleRecord(qint64 startedAtMs, const QString &campaign)
    {
        RunRecord r;
        r.startedAtMs = startedAtMs;
        r.finishedAtMs = startedAtMs + 2500;
        r.id = RunRecord::makeId(startedAtMs, campaign);
        r.campaign = campaign;
        r.target = u"http://127.0.0.1:8080 http://127.0.0.1:8081"_s;
        r.operatorName = u"alice@box"_s;
        r.tool = u"couponctl"_s;
        r.users = 1000;
        r.concurrency = 32;
        r.duplicatePercent = 10;
        r.seed = 42;
        r.figures.attempts = 1100;
        r.figures.byStatus[size_t(ApplyOutcome::Accepted)] = 100;
        r.figures.byStatus[size_t(ApplyOutcome::SoldOut)] = 900;
        r.figures.byStatus[size_t(ApplyOutcome::Duplicate)] = 100;
        r.figures.seconds = 2.5;
        r.figures.appliesPerSecond = 440;
        r.figures.p50Ms = 0.25;
        r.figures.p99Ms = 12.5;
        r.drainSeconds = 0.75;
        RunSample s;
        s.atMs = 250;
        s.answers[size_t(ApplyOutcome::Accepted)] = 7;
        s.p50Ms = 1.5;
        s.redisCount = 7;
        s.issued = 3;
        s.lag = 4;
        r.samples = {s, RunSample{}};
        r.audited = true;
        r.auditOk = false;
        r.auditSummary = u"99 issued of 100"_s;
        r.violations = {u"1 lost"_s};
        return r;
    }

private slots:
    void roundTrip()
    {
        const RunRecord r = sampleRecord(1'780'000'000'123, u"spring"_s);
        QCOMPARE(r.id, u"20260528-202640-123-spring"_s);
        Result<RunRecord> back = runRecordFromJson(toJson(r));
        QVERIFY2(back.ok(), qPrintable(back.ok() ? QString() : back.error().toString()));
        QCOMPARE(back->id, r.id);
        QCOMPARE(back->target, r.target);
        QCOMPARE(back->operatorName, r.operatorName);
        QCOMPARE(back->users, 1000);
        QCOMPARE(back->seed, 42u);
        QCOMPARE(back->count(ApplyOutcome::SoldOut), 900);
        QCOMPARE(back->figures.p99Ms, 12.5);
        QCOMPARE(back->drainSeconds, 0.75);
        QCOMPARE(back->samples.size(), 2);
        QCOMPARE(back->samples.at(0).answers[size_t(ApplyOutcome::Accepted)], 7);
        QCOMPARE(back->samples.at(0).answered(), 7);
        QCOMPARE(back->samples.at(0).issued, 3);
        QCOMPARE(back->samples.at(1).redisCount, -1);
        QVERIFY(back->audited);
        QVERIFY(!back->auditOk);
        QCOMPARE(back->violations, QStringList{u"1 lost"_s});

        QJsonObject bad = toJson(r);
        bad.insert(u"format"_s, 99);
        QCOMPARE(runRecordFromJson(bad).error().code, u"run.history"_s);
    }

    void historyKeepsTheNewest()
    {
        QTemporaryDir dir;
        RunHistory history(dir.path() + u"/runs"_s, 3);
        for (int i = 0; i < 5; ++i)
            QVERIFY(history.save(sampleRecord(1'780'000'000'000 + i * 1000, i % 2 ? u"odd"_s : u"even"_s)).ok());
        const QList<RunRecord> runs = history.list();
        QCOMPARE(runs.size(), 3);
        QCOMPARE(runs.at(0).startedAtMs, 1'780'000'004'000); // newest first
        QCOMPARE(runs.at(2).startedAtMs, 1'780'000'002'000);
        QCOMPARE(history.latest(u"odd"_s)->startedAtMs, 1'780'000'003'000);
        QCOMPARE(history.latest()->startedAtMs, 1'780'000'004'000);
        QCOMPARE(history.load(u"nope"_s).error().code, u"run.history"_s);
        QVERIFY(!history.latest(u"other"_s).ok());
        RunRecord unnamed;
        QVERIFY(!history.save(unnamed).ok());
        unnamed.id = u"../escape"_s;
        QVERIFY(!history.save(unnamed).ok());

        // Removing one: gone from the list; a second time, or an unknown id, is an error.
        const QString newest = runs.at(0).id;
        QVERIFY(history.remove(newest).ok());
        QCOMPARE(history.list().size(), 2);
        QCOMPARE(history.remove(newest).error().code, u"run.history"_s);
        QVERIFY(!history.remove(u"../escape"_s).ok());
    }

    void samplerMakesIntervals()
    {
        SimulationProgress progress;
        RunSampler sampler(&progress);
        progress.byStatus[size_t(ApplyOutcome::Accepted)] = 10;
        for (int i = 0; i < 10; ++i)
            progress.recordLatency(1'000'000); // 1 ms
        RunSample first = sampler.sample(250);
        QCOMPARE(first.atMs, 250);
        QCOMPARE(first.answered(), 10);
        QVERIFY(first.p50Ms >= 1.0 && first.p50Ms < 1.2);

        progress.byStatus[size_t(ApplyOutcome::SoldOut)] = 5;
        for (int i = 0; i < 5; ++i)
            progress.recordLatency(100'000'000); // 100 ms: only this interval's answers count
        RunSample second = sampler.sample(500);
        QCOMPARE(second.answers[size_t(ApplyOutcome::Accepted)], 0);
        QCOMPARE(second.answers[size_t(ApplyOutcome::SoldOut)], 5);
        QVERIFY(second.p50Ms >= 100 && second.p50Ms < 120);

        RunSample idle = sampler.sample(750);
        QCOMPARE(idle.answered(), 0);
        QCOMPARE(idle.p99Ms, 0.0);
        QCOMPARE(idle.redisCount, -1);
    }
};

QTEST_GUILESS_MAIN(TestRunRecord)
#include "tst_run_record.moc"
