// The run history the console and couponctl share: a record survives the
// JSON round trip, the folder keeps the newest runs, and the sampler makes
// intervals out of a live progress.

#include "coupon/loadgen/run_record.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
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
    // An audit asked for that gave no verdict (an error, a timeout) is
    // "no verdict", kept as such in the file, never a violation.
    void auditErrorIsNoVerdict()
    {
        RunRecord r = sampleRecord(1'780'000'000'000, u"spring"_s);
        r.setAudit(nullptr, u"not drained within 120000 ms"_s);
        QVERIFY(!r.audited);
        QCOMPARE(runVerdict(r), RunVerdict::NoVerdict);
        QCOMPARE(runVerdictText(r), u"no verdict: not drained within 120000 ms"_s);
        Result<RunRecord> back = runRecordFromJson(toJson(r));
        QVERIFY(back.ok());
        QCOMPARE(runVerdict(*back), RunVerdict::NoVerdict);
        QCOMPARE(back->auditError, r.auditError);

        AuditReport report;
        report.ok = false;
        report.violations = {u"3: user 7 accepted without a coupon"_s};
        r.setAudit(&report, {});
        QCOMPARE(runVerdict(r), RunVerdict::Violated);
        QCOMPARE(runVerdictText(r), u"VIOLATED: 3: user 7 accepted without a coupon"_s);
        report.ok = true;
        report.violations.clear();
        r.setAudit(&report, {});
        QCOMPARE(runVerdictText(r), u"all five invariants hold"_s);
        RunRecord unaudited;
        QCOMPARE(runVerdictText(unaudited), u"not audited"_s);
        unaudited.error = u"cancelled"_s;
        QCOMPARE(runVerdictText(unaudited), u"did not run: cancelled"_s);
    }

    // A corrupt or hand-edited file: a clear error naming the field, not a
    // record whose chart never ends.
    void absurdValuesAreRejected_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("field");
        QTest::newRow("huge p99") << u"samples.0.p99"_s << QJsonValue(1.7e308) << u"samples[0].p99"_s;
        QTest::newRow("negative p50") << u"samples.0.p50"_s << QJsonValue(-5) << u"samples[0].p50"_s;
        QTest::newRow("time before start") << u"samples.1.at"_s << QJsonValue(-3) << u"samples[1].at"_s;
        QTest::newRow("count below -1") << u"samples.0.redis"_s << QJsonValue(-7) << u"samples[0].redis"_s;
        QTest::newRow("negative answers")
            << u"samples.0.answers"_s << QJsonValue(QJsonArray{-1}) << u"samples[0].answers[0]"_s;
        QTest::newRow("figure p99") << u"figures.p99Ms"_s << QJsonValue(1e300) << u"figures.p99Ms"_s;
        QTest::newRow("fractional count") << u"figures.attempts"_s << QJsonValue(1.5) << u"figures.attempts"_s;
    }

    void absurdValuesAreRejected()
    {
        QFETCH(QString, path);
        QFETCH(QJsonValue, value);
        QFETCH(QString, field);
        QJsonObject json = toJson(sampleRecord(1'780'000'000'000, u"spring"_s));
        const QStringList parts = path.split(u'.');
        if (parts.first() == u"samples"_s) {
            QJsonArray samples = json.value(u"samples"_s).toArray();
            QJsonObject sample = samples.at(parts.at(1).toInt()).toObject();
            sample.insert(parts.at(2), value);
            samples.replace(parts.at(1).toInt(), sample);
            json.insert(u"samples"_s, samples);
        } else {
            QJsonObject figures = json.value(parts.at(0)).toObject();
            figures.insert(parts.at(1), value);
            json.insert(parts.at(0), figures);
        }
        // Through a file, as couponctl report and the console read it.
        QTemporaryDir dir;
        const QString id = json.value(u"id"_s).toString();
        QFile file(dir.filePath(id + u".json"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(json).toJson());
        file.close();
        const Result<RunRecord> loaded = RunHistory(dir.path()).load(id);
        QVERIFY(!loaded.ok());
        QCOMPARE(loaded.error().code, u"run.history"_s);
        QVERIFY2(loaded.error().message.contains(u'"' + field + u'"'), qPrintable(loaded.error().message));
        QVERIFY(RunHistory(dir.path()).list().isEmpty());
    }

    // However long the run, its record stays bounded, and what it adds up
    // to stays: the answers, the end, the worst latency, the last reading.
    void samplesStayBounded()
    {
        RunRecord r;
        std::array<qint64, kApplyOutcomeCount> sums{};
        double worst = 0;
        for (int i = 1; i <= 4 * RunRecord::kMaxSamples + 123; ++i) {
            RunSample s;
            s.atMs = i * 250;
            s.answers[size_t(ApplyOutcome::Accepted)] = i % 7;
            s.answers[size_t(ApplyOutcome::SoldOut)] = i % 3;
            s.p50Ms = 1;
            s.p99Ms = i == 3000 ? 500 : 10;
            s.redisCount = i;
            s.issued = i % 5 == 0 ? -1 : i - 1;
            for (size_t o = 0; o < sums.size(); ++o)
                sums[o] += s.answers[o];
            worst = std::max(worst, s.p99Ms);
            r.addSample(s);
            QVERIFY(r.samples.size() <= RunRecord::kMaxSamples);
        }
        QVERIFY(r.samples.size() > RunRecord::kMaxSamples / 2);
        std::array<qint64, kApplyOutcomeCount> merged{};
        double mergedWorst = 0;
        qint64 lastAt = 0;
        for (const RunSample &s : std::as_const(r.samples)) {
            QVERIFY(s.atMs > lastAt); // still in time order, no interval of 0
            lastAt = s.atMs;
            for (size_t o = 0; o < merged.size(); ++o)
                merged[o] += s.answers[o];
            mergedWorst = std::max(mergedWorst, s.p99Ms);
        }
        QCOMPARE(merged, sums);
        QCOMPARE(mergedWorst, worst);
        QCOMPARE(r.samples.constLast().atMs, qint64(4 * RunRecord::kMaxSamples + 123) * 250);
        QCOMPARE(r.samples.constLast().redisCount, qint64(4 * RunRecord::kMaxSamples + 123));
    }

    // The drain rule, with readings made up: each case one way the old
    // rule called a run drained too early.
    void drainNeedsTheCampaignsCounter()
    {
        // The campaign held 100 coupons before this run's 50: the issued
        // count 50 is not "drained" (the counter is campaign-wide).
        DrainWatch w;
        w.setCounterAtStart(100);
        w.finish(1000, 50);
        w.issuedRead(1000, 50);
        w.lagRead(1010, 0);
        QCOMPARE(w.drainedAfterMs(1020), -1);
        w.issuedRead(1200, 149);
        QCOMPARE(w.drainedAfterMs(1300), -1);
        w.issuedRead(1400, 150);
        QCOMPARE(w.drainedAfterMs(1500), 400);
    }

    void drainReadingsMustFollowTheLastAnswer()
    {
        DrainWatch w;
        w.counterRead(900, 40); // before the finish: not the target
        w.finish(1000, 50);
        w.issuedRead(990, 60); // asked before the last answer
        w.lagRead(995, 0);
        QCOMPARE(w.drainedAfterMs(1100), -1);
        QCOMPARE(w.drainedAfterMs(60'000), -1); // no target read after the finish, none at the start
        w.counterRead(1100, 60);
        w.issuedRead(1050, 60); // asked before the counter's reading
        w.lagRead(1150, 0);
        QCOMPARE(w.drainedAfterMs(1200), -1);
        w.issuedRead(1250, 60);
        QCOMPARE(w.drainedAfterMs(1300), 250);
        // Once drained, it stays at that time.
        w.issuedRead(1400, 10);
        QCOMPARE(w.drainedAfterMs(1500), 250);
    }

    void drainWithoutLagWaitsTheGraceAndStartsOver()
    {
        DrainWatch w;
        w.finish(1000, 50);
        w.counterRead(1000, 50);
        w.issuedRead(1200, 50);
        QCOMPARE(w.drainedAfterMs(1300), -1);                             // no lag reading: wait the grace
        w.issuedRead(2000, 49);                                           // fell behind (a reset): start over
        w.issuedRead(3000, 50);                                           // caught up again
        QCOMPARE(w.drainedAfterMs(1000 + DrainWatch::kLagGraceMs), 2000); // as of when it caught up
        // A lag reading after the finish: it must say 0.
        DrainWatch lagging;
        lagging.finish(0, 5);
        lagging.counterRead(0, 5);
        lagging.issuedRead(10, 5);
        lagging.lagRead(20, 3);
        QCOMPARE(lagging.drainedAfterMs(60'000), -1);
        lagging.lagRead(700, 0);
        QCOMPARE(lagging.drainedAfterMs(60'000), 700);
    }
};

QTEST_GUILESS_MAIN(TestRunRecord)
#include "tst_run_record.moc"
