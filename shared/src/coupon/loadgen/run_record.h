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

    // From the last answer until the worker group's lag reached 0 (-1: not seen).
    double drainSeconds = -1;
    QList<RunSample> samples;

    // The audit after the run, when one ran.
    bool audited = false;
    bool auditOk = false;
    QString auditSummary;
    QStringList violations;
    QStringList auditNotes;

    qint64 count(ApplyOutcome s) const { return figures.count(s); }
    // Takes the settings of a run.
    void setOptions(const SimulationOptions &options);
    // A fresh id from the start time and campaign.
    static QString makeId(qint64 startedAtMs, const QString &campaign);
};

QJsonObject toJson(const RunRecord &record);
// Errc::RunHistory naming the field when `json` is not a run record.
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
