#include "run_recorder.h"

#include "backend.h"

#include <QDateTime>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

// A read of the issued count lost on the way (the backend restarted) is
// asked again after this.
constexpr qint64 kIssuedRetryMs = 2000;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace

RunRecorder::RunRecorder(Backend *backend, QObject *parent)
    : QObject(parent)
    , m_backend(backend)
    , m_timer(new QTimer(this))
{
    qRegisterMetaType<RunRecord>();
    qRegisterMetaType<RunSample>();
    m_timer->setInterval(kIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &RunRecorder::tick);
    connect(backend, &Backend::redisSampled, this, [this](const RedisSample &sample) {
        if (sample.loaded)
            m_lastRedis = sample;
        if (m_record && sample.campaign == m_record->campaign && sample.loaded) {
            m_redisCount = sample.count;
            m_drain.counterRead(sample.atMs, sample.count);
        }
    });
    connect(backend, &Backend::lagSampled, this, [this](const LagSnapshot &snapshot) {
        if (m_record && snapshot.lagOk) {
            m_lag = LagProbe::total(snapshot.partitions);
            m_drain.lagRead(snapshot.atMs, m_lag);
        }
    });
    connect(backend, &Backend::issuedRead, this, [this](const QString &campaign, qint64 issued) {
        if (!m_record || campaign != m_record->campaign)
            return;
        const qint64 askedAt = std::exchange(m_issuedAskedAtMs, -1);
        if (issued >= 0) {
            m_issued = issued;
            if (askedAt >= 0)
                m_drain.issuedRead(askedAt, issued);
        }
    });
}

void RunRecorder::start(const SimulationRun &run)
{
    if (m_record)
        complete();
    m_record = RunRecord::begin(run.options, u"coupon-console"_s, run.target);
    m_progress = run.progress;
    m_sampler = std::make_unique<RunSampler>(m_progress.get());
    m_redisCount = m_issued = m_lag = -1;
    m_issuedAskedAtMs = -1;
    m_drain = DrainWatch();
    // The counter before the run's first apply (the run starts after this returns).
    if (m_lastRedis.campaign == m_record->campaign)
        m_drain.setCounterAtStart(m_lastRedis.count);
    m_finished = m_drained = false;
    m_auditId = 0;
    m_finishedAtElapsedMs = 0;
    m_clock.start();
    m_timer->start();
    emit started(*m_record);
}

void RunRecorder::finish(const SimulationReport *report, const QString &error, quint64 auditId)
{
    if (!m_record || m_finished)
        return;
    m_record->finishedAtMs = nowMs();
    m_finished = true;
    m_finishedAtElapsedMs = m_clock.elapsed();
    if (!report) {
        m_record->error = error;
        complete();
        return;
    }
    m_record->figures = static_cast<const SimulationFigures &>(*report);
    m_drain.finish(m_record->finishedAtMs, report->count(ApplyOutcome::Accepted));
    // An issued count asked before now is no answer about the drain.
    m_issuedAskedAtMs = -1;
    m_auditId = auditId;
    // The last interval: simulate() has returned, so every answer is counted
    // and the samples' answers add up to the run's.
    tick();
}

void RunRecorder::setAudit(quint64 auditId, const AuditReport *report, const QString &error)
{
    if (!m_record || m_auditId == 0 || auditId != m_auditId)
        return;
    m_auditId = 0;
    m_record->setAudit(report, error);
    completeIfDone();
}

void RunRecorder::stop(const QString &why)
{
    if (!m_record)
        return;
    if (!m_finished) {
        m_record->finishedAtMs = nowMs();
        m_record->error = why;
    } else if (m_auditId != 0) {
        m_auditId = 0;
        m_record->setAudit(nullptr, why);
    }
    complete();
}

void RunRecorder::tick()
{
    if (!m_record)
        return;
    const qint64 elapsed = m_clock.elapsed();
    if (!m_drained && (!m_finished || elapsed - m_finishedAtElapsedMs < kDrainDeadlineMs)) {
        RunSample sample = m_sampler->sample(elapsed);
        sample.redisCount = m_redisCount;
        sample.issued = m_issued;
        sample.lag = m_lag;
        m_record->addSample(sample);
        emit sampled(sample);
        const qint64 now = nowMs();
        if (m_issuedAskedAtMs < 0 || now - m_issuedAskedAtMs > kIssuedRetryMs) {
            m_issuedAskedAtMs = now;
            m_backend->readIssued(m_record->campaign);
        }
    }
    if (m_finished && !m_drained) {
        if (const qint64 drainedMs = m_drain.drainedAfterMs(nowMs()); drainedMs >= 0) {
            m_drained = true;
            m_record->drainSeconds = double(drainedMs) / 1000.0;
        }
    }
    completeIfDone();
}

void RunRecorder::completeIfDone()
{
    if (!m_record || !m_finished)
        return;
    const qint64 sinceFinish = m_clock.elapsed() - m_finishedAtElapsedMs;
    if (m_auditId != 0) {
        if (sinceFinish < kVerdictDeadlineMs)
            return;
        m_auditId = 0;
        m_record->setAudit(nullptr, tr("no verdict within %1 s").arg(kVerdictDeadlineMs / 1000));
    }
    if (m_drained || sinceFinish >= kDrainDeadlineMs)
        complete();
}

void RunRecorder::complete()
{
    m_timer->stop();
    const RunRecord record = std::move(*m_record);
    m_record.reset();
    m_sampler.reset();
    m_progress.reset();
    emit recorded(record);
}

} // namespace coupon::console
