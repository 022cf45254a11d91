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
// goes on until the drain completes (the lag 0 and the issued count up to
// the Redis counter) or kDrainDeadlineMs pass, and until the audit's
// verdict arrives; then the record is complete (recorded()).
class RunRecorder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunRecorder)

public:
    static constexpr int kIntervalMs = 250;
    static constexpr int kDrainDeadlineMs = 60'000;

    explicit RunRecorder(Backend *backend, QObject *parent = nullptr);

    // A run starts. A record still waiting for its drain or verdict is
    // completed first without them.
    void start(const SimulationRun &run);
    // The run's last answer (no report: it could not run, `error` says why).
    // `auditing`: a verdict will follow (setAudit()).
    void finish(const SimulationReport *report, const QString &error, bool auditing);
    // The audit's verdict for `campaign` (no report: `error` says why there is none).
    void setAudit(const QString &campaign, const AuditReport *report, const QString &error);

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
    qint64 m_lagAtMs = 0;          // epoch ms of the last lag reading
    qint64 m_issuedAskedAtMs = -1; // a read of the issued count in flight since then

    // After the last answer.
    bool m_finished = false;
    qint64 m_finishedAtElapsedMs = 0;
    qint64 m_issuedCaughtUpMs = -1; // when MySQL's issued count first reached the counter
    bool m_drained = false;
    bool m_awaitingAudit = false;
};

} // namespace coupon::console

Q_DECLARE_METATYPE(coupon::RunRecord)
Q_DECLARE_METATYPE(coupon::RunSample)
