// `couponctl report` on the real stack: a real drop (ApplyService in this
// process, the real coupon-worker), its run record with timeline samples
// saved to a run history, then the report read back as XML and held
// against CampaignOps::audit and the record. A campaign broken behind the
// system's back shows the invariant it breaks; a failed event carrying
// markup stays text.

#include "coupon/loadgen/run_record.h"
#include "coupon/loadgen/simulation.h"
#include "coupon/protocol/keys.h"
#include "coupon/redis/redis.h"
#include "coupon/report/drop_report.h"
#include "coupon/report/markup.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "report_fields.h"
#include "testsupport.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <thread>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestReport : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    test::StackFixture m_stack;
    std::unique_ptr<CampaignOps> &m_ops = m_stack.ops;
    std::unique_ptr<ApplyService> m_service;
    QTemporaryDir m_history; // COUPON_RUN_HISTORY_DIR, for this test and the couponctl it runs
    QTemporaryDir m_out;

    // A drop as the console records one: simulate, sample the timeline every
    // ~25 ms (answers, latency, Redis counter, coupons issued), measure the
    // drain, audit with the answered sets, save the record.
    RunRecord recordedDrop(const QString &campaign, qint64 users, int duplicatePercent)
    {
        SimulationOptions options;
        options.campaign = campaign;
        options.users = users;
        options.concurrency = 16;
        options.duplicatePercent = duplicatePercent;
        RunRecord record = RunRecord::begin(options, u"tst_report"_s, {});
        record.operatorName = u"tester@here"_s;

        SimulationProgress progress;
        RunSampler sampler(&progress);
        RedisConnection redis(m_settings.redis);
        const CampaignKeys keys(campaign);
        std::atomic<bool> done{false};
        SimulationReport report;
        QElapsedTimer clock, tick;
        clock.start();
        tick.start();
        std::thread run([&] {
            report = simulate(*m_service, options, &progress);
            done = true;
        });
        auto takeSample = [&] {
            RunSample s = sampler.sample(clock.elapsed());
            if (Result<RedisReplyHandle> r = redis.command({"GET", keys.count}))
                s.redisCount = replyInteger(r->get()).value_or(0);
            if (Result<qint64> issued = m_ops->store().couponCount(campaign))
                s.issued = *issued;
            record.addSample(s);
        };
        const bool finished = test::waitFor(
            [&] {
                if (tick.elapsed() >= 25) {
                    takeSample();
                    tick.restart();
                }
                return done.load();
            },
            60000);
        run.join();
        takeSample();
        if (!finished)
            qFatal("the simulation did not finish within 60 s");
        record.finishedAtMs = QDateTime::currentMSecsSinceEpoch();
        record.figures = report;

        QElapsedTimer drain;
        drain.start();
        if (Status drained = m_ops->waitForDrain(60000); !drained)
            qFatal("drain: %s", qPrintable(drained.error().message));
        record.drainSeconds = drain.elapsed() / 1000.0;
        Result<AuditReport> audit = m_ops->audit(campaign, 60000, &report.answered);
        if (!audit)
            qFatal("audit: %s", qPrintable(audit.error().message));
        record.setAudit(&*audit, {});
        if (Status saved = RunHistory().save(record); !saved)
            qFatal("save: %s", qPrintable(saved.error().message));
        return record;
    }

    // couponctl report ... --out FILE, read back.
    test::ParsedReport report(const QStringList &args, int expectedExit, QString *html = nullptr)
    {
        const QString path = m_out.filePath(u"r%1.html"_s.arg(++m_reports));
        const test::ProgramRun r = test::couponctl(QStringList{u"report"_s} + args + QStringList{u"--out"_s, path});
        if (r.exitCode != expectedExit)
            qWarning("couponctl report: exit %d, wanted %d: %s", r.exitCode, expectedExit, qPrintable(r.text()));
        m_lastRun = r;
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return test::ParsedReport{u"no file written"_s, {}, {}, {}, 0, 0, {}};
        const QString text = QString::fromUtf8(file.readAll());
        if (html)
            *html = text;
        return test::parseReport(text);
    }
    int m_reports = 0;
    test::ProgramRun m_lastRun;

private slots:
    void initTestCase()
    {
        QVERIFY(m_history.isValid());
        qputenv("COUPON_RUN_HISTORY_DIR", QFile::encodeName(m_history.path()));
        const QString started = m_stack.start(m_settings, u"tst_report"_s);
        QVERIFY2(started.isEmpty(), qPrintable(started));
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(m_settings);
        QVERIFY2(service.ok(), qPrintable(service.ok() ? QString() : service.error().message));
        m_service = std::move(service).value();
    }

    void cleanupTestCase()
    {
        m_service.reset();
        if (m_stack.worker)
            QCOMPARE(m_stack.worker->terminate(10000), 0);
    }

    // The check: the figures in the report are the audit's and the record's.
    void reportOfARunHasTheAuditsFigures()
    {
        const QString campaign = test::openCampaign(*m_ops, u"report"_s, 100);
        const RunRecord run = recordedDrop(campaign, 3000, 10);
        QVERIFY2(run.auditOk, qPrintable(run.violations.join(u"; "_s)));
        QVERIFY(run.samples.size() >= 2);

        QString html;
        const test::ParsedReport p = report({u"--campaign"_s, campaign, u"--run"_s, u"latest"_s}, 0, &html);
        QVERIFY2(m_lastRun.exitCode == 0, qPrintable(m_lastRun.text()));
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        QVERIFY2(m_lastRun.out.contains(u"written to"_s), qPrintable(m_lastRun.text()));

        // The audit now (the topic is drained: the same state the report saw).
        Result<AuditReport> audit = m_ops->audit(campaign, 60000);
        QVERIFY(audit.ok());
        const CampaignOverview &s = audit->status;
        QCOMPARE(p.field(u"campaign"_s), campaign);
        QCOMPARE(p.field(u"issued"_s), QString::number(s.coupons));
        QCOMPARE(p.field(u"issued"_s), u"100"_s);
        QCOMPARE(p.field(u"campaign-issued"_s), QString::number(s.campaign.issued));
        QCOMPARE(p.field(u"limit"_s), QString::number(s.campaign.limit));
        QCOMPARE(p.field(u"redis-count"_s), QString::number(s.redisCount));
        QCOMPARE(p.field(u"redis-users"_s), QString::number(s.redisUsers));
        QCOMPARE(p.field(u"pending"_s), QString::number(s.pending));
        QCOMPARE(p.field(u"state"_s), s.campaign.state);
        QCOMPARE(p.field(u"audit-summary"_s), audit->summary);
        QCOMPARE(p.field(u"verdict"_s), u"ok"_s);
        for (int n = 1; n <= 5; ++n)
            QCOMPARE(p.field(u"invariant-%1"_s.arg(n)), u"holds"_s);

        // The run's figures are the record's.
        QCOMPARE(p.field(u"run-id"_s), run.id);
        QCOMPARE(p.field(u"run-operator"_s), u"tester@here"_s);
        QCOMPARE(p.field(u"users"_s), QString::number(run.users));
        QCOMPARE(p.field(u"attempts"_s), QString::number(run.figures.attempts));
        qint64 answered = 0;
        for (int i = 0; i < kApplyOutcomeCount; ++i) {
            const QString name = toString(ApplyOutcome(i));
            QCOMPARE(p.field(u"outcome-"_s + name), QString::number(run.count(ApplyOutcome(i))));
            answered += run.count(ApplyOutcome(i));
        }
        QCOMPARE(p.field(u"outcome-accepted"_s), u"100"_s);
        QCOMPARE(p.field(u"answered"_s), QString::number(answered));
        QCOMPARE(p.field(u"p50-ms"_s), fixedNumber(run.figures.p50Ms, 3));
        QCOMPARE(p.field(u"p95-ms"_s), fixedNumber(run.figures.p95Ms, 3));
        QCOMPARE(p.field(u"p99-ms"_s), fixedNumber(run.figures.p99Ms, 3));
        QCOMPARE(p.field(u"drain-seconds"_s), fixedNumber(run.drainSeconds, 3));
        QVERIFY(p.field(u"run-audit"_s).startsWith(u"all five invariants hold"_s));

        // The charts: inline SVG, a line per outcome that occurred, per percentile, per counter.
        QCOMPARE(p.svgIds, (QStringList{u"chart-rates"_s, u"chart-latency"_s, u"chart-counts"_s}));
        int outcomes = 0;
        for (int i = 0; i < kApplyOutcomeCount; ++i)
            outcomes += run.count(ApplyOutcome(i)) > 0 ? 1 : 0;
        QCOMPARE(p.polylines, outcomes + 3 + 2);
        QVERIFY(!html.contains(u"<script"_s, Qt::CaseInsensitive));

        // Who made it, where, when, with what.
        QCOMPARE(p.field(u"generated-tool"_s), u"couponctl"_s);
        QVERIFY(!p.field(u"generated-host"_s).isEmpty());
        const QDateTime at = QDateTime::fromString(p.field(u"generated-at"_s), Qt::ISODateWithMs);
        QVERIFY(at.isValid());
        QVERIFY(qAbs(at.secsTo(QDateTime::currentDateTimeUtc())) < 300);

        // --run ID alone: the run names the campaign; no --out: standard output.
        const test::ProgramRun stdoutRun = test::couponctl({u"report"_s, u"--run"_s, run.id});
        QCOMPARE(stdoutRun.exitCode, 0);
        const test::ParsedReport fromStdout = test::parseReport(stdoutRun.out);
        QVERIFY2(fromStdout.error.isEmpty(), qPrintable(fromStdout.error));
        QCOMPARE(fromStdout.field(u"run-id"_s), run.id);
        QCOMPARE(fromStdout.field(u"issued"_s), u"100"_s);
    }

    // A coupon row deleted behind the system's back: the report says which
    // invariants broke, couponctl exits 1; a failed event's markup stays text.
    void brokenCampaignShowsTheViolatedInvariant()
    {
        const QString campaign = test::openCampaign(*m_ops, u"report-broken"_s, 20);
        const RunRecord run = recordedDrop(campaign, 50, 0);
        QVERIFY(run.auditOk);

        // Poison of this campaign whose bytes are markup.
        test::RawProducer producer(m_settings);
        producer.send(QByteArray("9"), QByteArray("<script>alert(1)</script>&"), test::protocolHeaders(campaign, 1));
        QVERIFY(test::waitFor(
            [&] {
                Result<qint64> n = m_ops->store().failedEventCount(campaign);
                return n && *n == 1;
            },
            30000));

        QSqlQuery q(m_ops->store().database());
        q.prepare(u"DELETE FROM coupon WHERE campaign_id = ? ORDER BY id LIMIT 1"_s);
        q.addBindValue(campaign);
        QVERIFY2(q.exec(), qPrintable(q.lastQuery()));
        QCOMPARE(q.numRowsAffected(), 1);

        QString html;
        const test::ParsedReport p = report({u"--campaign"_s, campaign, u"--run"_s, run.id}, 1, &html);
        QCOMPARE(m_lastRun.exitCode, 1);
        QVERIFY2(m_lastRun.err.contains(u"invariant violation"_s), qPrintable(m_lastRun.text()));
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        Result<AuditReport> audit = m_ops->audit(campaign, 60000);
        QVERIFY(audit.ok());
        QVERIFY(!audit->ok);
        QCOMPARE(p.field(u"verdict"_s), u"violated"_s);
        QCOMPARE(p.field(u"issued"_s), u"19"_s);
        QCOMPARE(p.field(u"campaign-issued"_s), u"20"_s);
        for (int n = 1; n <= 5; ++n)
            QCOMPARE(p.field(u"invariant-%1"_s.arg(n)), violationsOf(*audit, n).isEmpty() ? u"holds"_s : u"VIOLATED"_s);
        QCOMPARE(p.field(u"invariant-1"_s), u"VIOLATED"_s); // campaign.issued 20, 19 rows
        QCOMPARE(p.field(u"invariant-3"_s), u"VIOLATED"_s); // a user Redis holds without a coupon
        QCOMPARE(p.field(u"invariant-5"_s), u"VIOLATED"_s); // MySQL 19, Redis 20
        QCOMPARE(p.field(u"invariant-2"_s), u"holds"_s);
        // The record's own audit (before the deletion) held.
        QVERIFY(p.field(u"run-audit"_s).startsWith(u"all five invariants hold"_s));

        QCOMPARE(p.field(u"failed-events"_s), u"1"_s);
        QCOMPARE(p.field(u"failed-unresolved"_s), u"1"_s);
        QCOMPARE(p.failedEventRows, 1);
        QVERIFY(!html.contains(u"<script"_s, Qt::CaseInsensitive));
        bool shown = false;
        for (const QString &t : p.texts)
            shown = shown || t.endsWith(u"|<script>alert(1)</script>&|"_s);
        QVERIFY2(shown, "the failed event's bytes, as text");
    }

    void badInputGetsAClearError()
    {
        const test::ProgramRun noCampaign = test::couponctl({u"report"_s});
        QCOMPARE(noCampaign.exitCode, 2);
        QVERIFY2(noCampaign.err.contains(u"report needs --campaign"_s), qPrintable(noCampaign.text()));
        const test::ProgramRun noRun = test::couponctl({u"report"_s, u"--run"_s, u"no-such-run"_s});
        QCOMPARE(noRun.exitCode, 2);
        QVERIFY2(noRun.err.contains(u"no run \"no-such-run\""_s), qPrintable(noRun.text()));
        const QString campaign = test::openCampaign(*m_ops, u"report-other"_s, 5);
        // A run of another campaign, this case's own.
        SimulationOptions options;
        options.campaign = u"report-elsewhere"_s;
        const RunRecord elsewhere = RunRecord::begin(options, u"tst_report"_s, {});
        QVERIFY(RunHistory().save(elsewhere).ok());
        const QString someRun = elsewhere.id;
        const test::ProgramRun mismatch = test::couponctl(
            {u"report"_s, u"--campaign"_s, campaign, u"--run"_s, someRun});
        QCOMPARE(mismatch.exitCode, 2);
        QVERIFY2(mismatch.err.contains(u"not "_s + campaign), qPrintable(mismatch.text()));
        const test::ProgramRun unknown = test::couponctl({u"report"_s, u"--campaign"_s, u"no-such-campaign"_s});
        QCOMPARE(unknown.exitCode, 2);
        const test::ProgramRun unwritable = test::couponctl(
            {u"report"_s, u"--campaign"_s, campaign, u"--out"_s, u"/no/such/dir/r.html"_s});
        QCOMPARE(unwritable.exitCode, 2);
        QVERIFY2(unwritable.err.contains(u"cannot write /no/such/dir/r.html"_s), qPrintable(unwritable.text()));

        // A hand-edited record whose latency no axis can hold: a clear error, at once.
        SimulationOptions mine;
        mine.campaign = campaign;
        RunRecord edited = RunRecord::begin(mine, u"tst_report"_s, {});
        RunSample s;
        s.atMs = 250;
        s.answers[size_t(ApplyOutcome::Accepted)] = 1;
        s.p50Ms = 1;
        s.p95Ms = 2;
        s.p99Ms = 3;
        edited.addSample(s);
        QJsonObject json = toJson(edited);
        QJsonArray samples = json.value(u"samples"_s).toArray();
        QJsonObject first = samples.at(0).toObject();
        first.insert(u"p99"_s, 1.7e308);
        samples.replace(0, first);
        json.insert(u"samples"_s, samples);
        QFile file(QDir(RunHistory::defaultDir()).filePath(edited.id + u".json"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(json).toJson());
        file.close();
        const test::ProgramRun corrupt = test::couponctl({u"report"_s, u"--run"_s, edited.id});
        QCOMPARE(corrupt.exitCode, 2);
        QVERIFY2(corrupt.err.contains(u"samples[0].p99"_s), qPrintable(corrupt.text()));
        QVERIFY(file.remove());
    }
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
