#include "run_recorder.h"

#include "backend.h"
#include "dialogs.h"

#include <QDateTime>
#include <QHostInfo>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

// A read of the issued count lost on the way (the backend restarted) is
// asked again after this.
constexpr qint64 kIssuedRetryMs = 2000;
// Without a lag reading this long after the last answer (the lag view is
// paused, or Kafka does not answer), the issued count alone says drained.
constexpr qint64 kLagGraceMs = 5000;

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
        if (m_record && sample.campaign == m_record->campaign && sample.loaded)
            m_redisCount = sample.count;
    });
    connect(backend, &Backend::lagSampled, this, [this](const LagSnapshot &snapshot) {
        if (m_record && snapshot.lagOk) {
            m_lag = LagProbe::total(snapshot.partitions);
            m_lagAtMs = snapshot.atMs;
        }
    });
    connect(backend, &Backend::issuedRead, this, [this](const QString &campaign, qint64 issued) {
        if (!m_record || campaign != m_record->campaign)
            return;
        m_issuedAskedAtMs = -1;
        if (issued >= 0)
            m_issued = issued;
    });
}

void RunRecorder::start(const SimulationRun &run)
{
    if (m_record)
        complete();
    RunRecord record;
    record.setOptions(run.options);
    record.startedAtMs = QDateTime::currentMSecsSinceEpoch();
    record.id = RunRecord::makeId(record.startedAtMs, record.campaign);
    record.target = run.target.isEmpty() ? u"in-process"_s : run.target;
    record.operatorName = operatorName() + u'@' + QHostInfo::localHostName();
    record.tool = u"coupon-console"_s;
    m_record = std::move(record);
    m_progress = run.progress;
    m_sampler = std::make_unique<RunSampler>(m_progress.get());
    m_redisCount = m_issued = m_lag = -1;
    m_lagAtMs = 0;
    m_issuedAskedAtMs = -1;
    m_finished = m_drained = m_awaitingAudit = false;
    m_finishedAtElapsedMs = 0;
    m_issuedCaughtUpMs = -1;
    m_clock.start();
    m_timer->start();
    emit started(*m_record);
}

void RunRecorder::finish(const SimulationReport *report, const QString &error, bool auditing)
{
    if (!m_record || m_finished)
        return;
    m_record->finishedAtMs = QDateTime::currentMSecsSinceEpoch();
    m_finished = true;
    m_finishedAtElapsedMs = m_clock.elapsed();
    if (!report) {
        m_record->error = error;
        complete();
        return;
    }
    m_record->figures = static_cast<const SimulationFigures &>(*report);
    // The last interval: simulate() has returned, so every answer is counted
    // and the samples' answers add up to the run's.
    tick();
    m_awaitingAudit = auditing;
    completeIfDone();
}

void RunRecorder::setAudit(const QString &campaign, const AuditReport *report, const QString &error)
{
    if (!m_record || !m_awaitingAudit || campaign != m_record->campaign)
        return;
    m_awaitingAudit = false;
    m_record->audited = true;
    if (report) {
        m_record->auditOk = report->ok;
        m_record->auditSummary = report->summary;
        m_record->violations = report->violations;
        m_record->auditNotes = report->notes;
    } else {
        m_record->auditOk = false;
        m_record->auditSummary = tr("no verdict: %1").arg(error);
    }
    completeIfDone();
}

void RunRecorder::stop(const QString &why)
{
    if (!m_record)
        return;
    if (!m_finished) {
        m_record->finishedAtMs = QDateTime::currentMSecsSinceEpoch();
        m_record->error = why;
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
        m_record->samples.append(sample);
        emit sampled(sample);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (m_issuedAskedAtMs < 0 || now - m_issuedAskedAtMs > kIssuedRetryMs) {
            m_issuedAskedAtMs = now;
            m_backend->readIssued(m_record->campaign);
        }
    }
    if (m_finished && !m_drained) {
        // Drained: MySQL has every ticket Redis handed out (the counter, or
        // this run's accepts when the counter was not read), and a lag
        // reading taken after the last answer says 0 (unless none came
        // within kLagGraceMs: then since the issued count caught up).
        const qint64 target = m_redisCount >= 0 ? m_redisCount : m_record->count(ApplyOutcome::Accepted);
        if (m_issued >= target && m_issuedCaughtUpMs < 0)
            m_issuedCaughtUpMs = elapsed;
        const bool lagRead = m_lagAtMs >= m_record->finishedAtMs;
        if (m_issued >= target && lagRead && m_lag == 0) {
            m_drained = true;
            m_record->drainSeconds = double(elapsed - m_finishedAtElapsedMs) / 1000.0;
        } else if (m_issuedCaughtUpMs >= 0 && !lagRead && elapsed - m_finishedAtElapsedMs >= kLagGraceMs) {
            m_drained = true;
            m_record->drainSeconds = double(m_issuedCaughtUpMs - m_finishedAtElapsedMs) / 1000.0;
        }
    }
    completeIfDone();
}

void RunRecorder::completeIfDone()
{
    if (!m_record || !m_finished || m_awaitingAudit)
        return;
    if (m_drained || m_clock.elapsed() - m_finishedAtElapsedMs >= kDrainDeadlineMs)
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
