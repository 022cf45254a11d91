#pragma once

// A simulation run as it is kept after it ends: its settings, its timeline,
// its figures and the audit's verdict. The console and couponctl both write
// runs into one history (a folder of JSON files, one per run), so the
// console's run history and `couponctl report` see the same runs.

#include "coupon/base/result.h"
#include "coupon/loadgen/simulation.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <array>

namespace coupon {

// One interval of a run's timeline (the console samples about 4 times a second).
struct RunSample
{
    qint64 atMs = 0;                                  // since the run started, at the end of the interval
    std::array<qint64, kApplyOutcomeCount> answers{}; // answered in this interval, by outcome
    double p50Ms = 0, p95Ms = 0, p99Ms = 0;           // of the answers in this interval (0: none)
    qint64 redisCount = -1;                           // the campaign's ticket counter (-1: not read)
    qint64 issued = -1;                               // coupons in MySQL (-1: not read)
    qint64 lag = -1;                                  // the worker group's lag on the topic (-1: not read)

    qint64 answered() const;
    // Whether the interval has a latency to show: answers, and a p50 above
    // 0 (the answers are counted before their latency is, so a sample can
    // catch answers whose latency is not in yet).
    bool hasLatency() const { return answered() > 0 && p50Ms > 0; }
};

struct RunRecord
{
    QString id; // "20261130-101500-123-default": sorts by start time
    QString campaign;
    QString target;         // "in-process", or the gateway base URLs separated by spaces
    QString operatorName;   // user@host of whoever ran it
    QString tool;           // "coupon-console" or "couponctl"
    qint64 startedAtMs = 0; // epoch ms
    qint64 finishedAtMs = 0;

    // The settings (SimulationOptions without the token minter).
    qint64 users = 0;
    qint64 firstUser = 1;
    int concurrency = 0;
    int duplicatePercent = 0;
    quint32 seed = 0;

    // The figures (SimulationReport without the answered sets).
    SimulationFigures figures;
    QString error; // the run failed to start or stopped early: why

    // From the last answer until the drain completed (DrainWatch; -1: not seen).
    double drainSeconds = -1;
    // At most kMaxSamples: addSample() merges neighbours beyond that.
    QList<RunSample> samples;

    // The audit after the run, when one ran.
    bool audited = false; // a verdict came: auditOk, auditSummary, violations, auditNotes
    bool auditOk = false;
    QString auditSummary;
    QStringList violations;
    QStringList auditNotes;
    QString auditError; // an audit was asked for but gave no verdict (error, timeout): why

    // A record stays this small whatever the run's length (a sample is
    // about 150 bytes of JSON).
    static constexpr int kMaxSamples = 2000;

    qint64 count(ApplyOutcome s) const { return figures.count(s); }
    // Takes the settings of a run.
    void setOptions(const SimulationOptions &options);
    // A fresh id from the start time and campaign.
    static QString makeId(qint64 startedAtMs, const QString &campaign);
    // A run starting now: its settings, id, start time, operator
    // (operatorAtHost()), tool and target ("in-process" when empty).
    static RunRecord begin(const SimulationOptions &options, const QString &tool, const QString &target);

    // Appends `sample`; beyond kMaxSamples, neighbouring intervals are
    // merged pairwise (the oldest first): answers summed, each percentile
    // the larger of the two (an upper bound: the exact one needs the
    // buckets), the readings of the later one (the state at its end).
    void addSample(const RunSample &sample);
    // The audit's outcome: a verdict (`report`) or why there is none.
    void setAudit(const AuditReport *report, const QString &why);
};

// What became of a run, from its record.
enum class RunVerdict {
    DidNotRun,  // error: it could not start or stopped early
    NotAudited, // no audit was asked for
    NoVerdict,  // the audit failed or timed out (auditError)
    Held,       // all five invariants hold
    Violated,   // an invariant is broken
};
RunVerdict runVerdict(const RunRecord &record);
// The verdict in a few words, the same in the console, couponctl and the
// report: "did not run: <why>", "not audited", "no verdict: <why>", "all
// five invariants hold", "VIOLATED: <the violations>".
QString runVerdictText(const RunRecord &record);

// When a run has drained: every coupon it was handed out is in MySQL and
// the worker group has nothing left on the topic. One rule for the console
// (readings arriving as signals) and couponctl (readings it takes), on the
// caller's clock (any ms clock, the same for every call).
//
// After the last answer (finish()), the target is the Redis counter read
// after it; without such a reading, the counter read before the run began
// plus this run's accepts (the counter is campaign-wide: a campaign with
// earlier coupons is not drained by this run's accepts alone); without
// either, there is no target and no drain is seen. Drained when an issued
// count asked after the target's reading reaches it (falling below it again
// starts over) and a lag reading taken after the last answer says 0; with
// no lag reading at all kLagGraceMs after the last answer (the lag view is
// paused, Kafka does not answer), the issued count alone says drained, as
// of when it caught up.
class DrainWatch
{
public:
    static constexpr qint64 kLagGraceMs = 5000;

    // The Redis counter read before the run's first apply (-1: not read).
    void setCounterAtStart(qint64 count) { m_counterAtStart = count; }
    void finish(qint64 atMs, qint64 accepted);
    void counterRead(qint64 atMs, qint64 count);
    // An issued count asked for at `askedAtMs` (it may arrive later).
    void issuedRead(qint64 askedAtMs, qint64 issued);
    void lagRead(qint64 atMs, qint64 lag);
    // Ms from the last answer until drained, -1 while not (yet): call after
    // every reading; `nowMs` for the grace without lag readings.
    qint64 drainedAfterMs(qint64 nowMs);

    bool isFinished() const { return m_finishedAtMs >= 0; }

private:
    qint64 target() const;

    qint64 m_counterAtStart = -1;
    qint64 m_finishedAtMs = -1;
    qint64 m_accepted = 0;
    qint64 m_counter = -1, m_counterAtMs = -1; // the last counter read after the finish
    qint64 m_caughtUpAtMs = -1;                // when an issued count first reached the target
    bool m_lagZero = false;                    // a lag reading after the finish said 0
    qint64 m_lagZeroAtMs = -1;
    bool m_lagSeen = false; // any lag reading after the finish
    qint64 m_drainedAfterMs = -1;
};

QJsonObject toJson(const RunRecord &record);
// Errc::RunHistory naming the field when `json` is not a run record, or
// holds a value no run can have (a hand-edited or corrupt file: a latency
// outside 0..1e7 ms, not a finite number, a count below -1, a time before
// the start).
Result<RunRecord> runRecordFromJson(const QJsonObject &json);

// Turns a live SimulationProgress into timeline samples: each sample() call
// makes the interval since the previous one (answers by outcome, latency
// percentiles of just those answers).
class RunSampler
{
public:
    explicit RunSampler(const SimulationProgress *progress)
        : m_progress(progress)
    { }
    // `elapsedMs`: since the run started. The Redis, MySQL and lag fields
    // are left -1 for the caller to fill.
    RunSample sample(qint64 elapsedMs);

private:
    const SimulationProgress *m_progress;
    std::array<qint64, kApplyOutcomeCount> m_lastStatus{};
    SimulationProgress::LatencyCounts m_lastLatency{};
};

// The runs kept on this machine: one <id>.json per run in a folder
// (COUPON_RUN_HISTORY_DIR, else $XDG_DATA_HOME/coupon-system/runs), the
// newest `keep` of them.
class RunHistory
{
public:
    static constexpr int kKeep = 50;
    static QString defaultDir();

    explicit RunHistory(QString dir = defaultDir(), int keep = kKeep);
    QString dir() const { return m_dir; }

    // Writes the record atomically (replacing one with the same id), then
    // removes the oldest beyond `keep`.
    Status save(const RunRecord &record);
    // Newest first; unreadable files are skipped.
    QList<RunRecord> list(int limit = kKeep) const;
    Result<RunRecord> load(const QString &id) const;
    // Deletes run `id`; Errc::RunHistory when there is no such run.
    Status remove(const QString &id);
    // The newest run of `campaign` (any campaign when empty).
    Result<RunRecord> latest(const QString &campaign = {}) const;

private:
    QString m_dir;
    int m_keep;
};

} // namespace coupon
