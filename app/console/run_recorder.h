#pragma once

#include "types.h"

#include "coupon/loadgen/run_record.h"

#include <QElapsedTimer>
#include <QObject>

#include <memory>
#include <optional>

class QTimer;

namespace coupon::console {

class Backend;

// Records the run in flight for the run timeline and the run history. On the
// GUI thread, about 4 times a second: the interval's answers and latency
// from the run's SimulationProgress (atomics only), the Redis counter from
// the RedisSample stream, the topic lag from the LagSnapshot stream, and
// MySQL's issued count read on the store thread. After the last answer it
// goes on until the drain completes (DrainWatch's rule, shared with
// couponctl) or kDrainDeadlineMs pass, and until the audit's verdict
// arrives or kVerdictDeadlineMs pass; then the record is complete
// (recorded()).
class RunRecorder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunRecorder)

public:
    static constexpr int kIntervalMs = 250;
    static constexpr int kDrainDeadlineMs = 60'000;
    // The audit waits up to kAuditTimeoutMs for the drain; a verdict that
    // has not come by then plus a margin is not coming (the backend
    // restarted, the answer was lost): the record is kept without it.
    static constexpr int kAuditTimeoutMs = 120'000;
    static constexpr int kVerdictDeadlineMs = kAuditTimeoutMs + 30'000;

    explicit RunRecorder(Backend *backend, QObject *parent = nullptr);

    // A run starts. A record still waiting for its drain or verdict is
    // completed first without them.
    void start(const SimulationRun &run);
    // The run's last answer (no report: it could not run, `error` says why).
    // `auditId`: the audit asked for this run (Backend::audit()), whose
    // verdict will follow (setAudit()); 0: none.
    void finish(const SimulationReport *report, const QString &error, quint64 auditId);
    // Audit `auditId`'s verdict (no report: `error` says why there is none).
    // Another audit's (an earlier run's, of the same campaign) is not this run's.
    void setAudit(quint64 auditId, const AuditReport *report, const QString &error);

    // The console closes: completes the record with what it has (a run
    // still going is marked with `why`).
    void stop(const QString &why);

    bool isRecording() const { return m_record.has_value(); }
    // The record being made (samples so far); valid while isRecording().
    const RunRecord &record() const { return *m_record; }

signals:
    void started(const coupon::RunRecord &record);
    void sampled(const coupon::RunSample &sample);
    // The run, its drain and its verdict are in: save it.
    void recorded(const coupon::RunRecord &record);

private:
    void tick();
    void completeIfDone();
    void complete();

    Backend *m_backend;
    QTimer *m_timer;
    std::optional<RunRecord> m_record;
    std::shared_ptr<const SimulationProgress> m_progress;
    std::unique_ptr<RunSampler> m_sampler;
    QElapsedTimer m_clock;

    // What the streams said last (-1: nothing yet).
    qint64 m_redisCount = -1;
    qint64 m_issued = -1;
    qint64 m_lag = -1;
    qint64 m_issuedAskedAtMs = -1; // epoch ms: a read of the issued count in flight since then
    // The current campaign's last Redis reading, run or not: the drain's
    // target when the counter is not read after the run (another campaign
    // selected meanwhile).
    RedisSample m_lastRedis;

    // After the last answer (epoch ms for the DrainWatch).
    DrainWatch m_drain;
    bool m_finished = false;
    qint64 m_finishedAtElapsedMs = 0;
    bool m_drained = false;
    quint64 m_auditId = 0; // the verdict awaited (0: none)
};

} // namespace coupon::console

Q_DECLARE_METATYPE(coupon::RunRecord)
Q_DECLARE_METATYPE(coupon::RunSample)
