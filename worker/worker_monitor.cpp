#include "worker_monitor.h"

#include "coupon/http/admin_listener.h"
#include "coupon/http/prometheus.h"
#include "coupon/http/server.h"
#include "coupon/kafka/liveness.h"
#include "coupon/service/consumer.h"
#include "coupon/service/reconciler.h"

#include <QJsonObject>
#include <QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcMonitor, "coupon.worker")

namespace coupon {

namespace {

constexpr int kAdminConnections = 32; // probes and scrapers
constexpr int kSampleEveryMs = 250;

QByteArray number(qint64 n)
{
    return QByteArray::number(n);
}

QByteArray flag(bool on)
{
    return on ? QByteArray("1") : QByteArray("0");
}

} // namespace

WorkerMonitor::WorkerMonitor(const Settings &settings, const ConsumerStats &consumer, const ReconcilerStats *reconciler,
                             const KafkaLiveness &kafka, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_consumer(consumer)
    , m_reconciler(reconciler)
    , m_kafka(kafka)
{
    m_loopTurned.start();
    m_progress.start();
    connect(&m_sampler, &QTimer::timeout, this, &WorkerMonitor::sample);
    m_sampler.start(kSampleEveryMs);
}

WorkerMonitor::~WorkerMonitor() = default;

void WorkerMonitor::sample()
{
    const qint64 loops = m_consumer.loops.load();
    if (loops != m_lastLoops) {
        m_lastLoops = loops;
        m_loopTurned.restart();
    }
    const qint64 batches = m_consumer.batches.load();
    if (batches != m_lastBatches || m_consumer.lag.load() <= 0) {
        m_lastBatches = batches;
        m_progress.restart();
    }
}

bool WorkerMonitor::isLive() const
{
    return m_consumerRunning && m_loopTurned.elapsed() < kHealthyWithinMs;
}

WorkerMonitor::Readiness WorkerMonitor::readiness() const
{
    Readiness r;
    if (m_stopping) {
        r.reason = r.detail = u"shutting down"_s;
    } else if (!m_consumerRunning) {
        r.reason = r.detail = u"the consumer stopped"_s;
    } else if (!m_consumer.mysqlUp.load()) {
        r.reason = u"MySQL: not reachable, or refuses the worker's writes"_s;
        r.detail = m_consumer.lastMysqlError();
        if (r.detail.isEmpty())
            r.detail = u"connecting to MySQL"_s;
    } else if (!m_kafka.isUp()) {
        r.reason = u"Kafka: no broker answers, or a partition of the topic has no leader"_s;
        r.detail = m_kafka.error();
    } else if (m_consumer.assigned.load() == 0) {
        r.reason = u"no partitions assigned (joining the group, a rebalance, or more workers than partitions)"_s;
        r.detail = u"group %1 on topic %2"_s.arg(m_settings.worker.group, m_settings.kafka.topic);
    } else if (m_progress.elapsed() >= kLagStuckMs) {
        r.reason = u"lag not moving: %1 message(s) behind and no batch written for %2 s"_s.arg(m_consumer.lag.load())
                       .arg(m_progress.elapsed() / 1000);
        r.detail = r.reason;
    } else {
        r.ready = true;
    }
    if (!r.ready && r.detail != m_lastNotReady) {
        qCWarning(lcMonitor, "not ready: %s: %s", qPrintable(r.reason), qPrintable(r.detail));
        m_lastNotReady = r.detail;
    } else if (r.ready && !m_lastNotReady.isEmpty()) {
        qCInfo(lcMonitor, "ready again");
        m_lastNotReady.clear();
    }
    return r;
}

Status WorkerMonitor::listen()
{
    if (m_settings.worker.adminHost.isEmpty())
        return Ok{};
    http::Limits limits;
    limits.maxConnections = kAdminConnections;
    Result<http::Server *> server = http::listenAdmin(
        u"worker.admin.listen"_s, m_settings.worker.adminHost, m_settings.worker.adminPort, limits,
        [this](http::Request request, http::Responder responder) { handle(std::move(request), std::move(responder)); },
        this);
    if (!server)
        return server.error();
    m_server = *server;
    return Ok{};
}

quint16 WorkerMonitor::port() const
{
    return m_server ? m_server->port() : 0;
}

void WorkerMonitor::handle(http::Request request, http::Responder responder)
{
    const QByteArray &path = request.path;
    if (path != "/healthz" && path != "/readyz" && path != "/metrics")
        return responder.respond(http::Response::error(404, u"not_found"_s, u"no such path"_s));
    if (request.method != "GET") {
        http::Response r = http::Response::error(405, u"method_not_allowed"_s, u"only GET"_s);
        r.headers.append(std::pair<QByteArray, QByteArray>("Allow", "GET"));
        return responder.respond(std::move(r));
    }
    if (path == "/healthz") {
        const bool live = isLive();
        QJsonObject json{{u"status"_s, live ? u"alive"_s : u"hung"_s}};
        if (!live)
            json[u"reason"_s] = m_consumerRunning
                ? u"the consumer's loop has not turned for %1 s"_s.arg(m_loopTurned.elapsed() / 1000)
                : u"the consumer stopped"_s;
        return responder.respond(http::Response::json(live ? 200 : 503, json));
    }
    if (path == "/readyz") {
        const Readiness r = readiness();
        QJsonObject json{{u"status"_s, r.ready ? u"ready"_s : u"not_ready"_s},
                         {u"checks"_s,
                          QJsonObject{{u"mysql"_s, m_consumer.mysqlUp.load()},
                                      {u"kafka"_s, m_kafka.isUp()},
                                      {u"partitions"_s, m_consumer.assigned.load()},
                                      {u"lag"_s, m_consumer.lag.load()}}}};
        if (!r.ready) {
            json[u"reason"_s] = r.reason;
            json[u"detail"_s] = r.detail;
        }
        return responder.respond(http::Response::json(r.ready ? 200 : 503, json));
    }
    http::Response r;
    r.contentType = http::kPrometheusContentType;
    r.body = metrics();
    responder.respond(std::move(r));
}

QByteArray WorkerMonitor::metrics() const
{
    using http::appendFamily;
    using http::appendMetric;
    using http::appendSample;
    const ConsumerStats &s = m_consumer;
    QByteArray out;
    out.reserve(4096);
    appendMetric(out, "coupon_worker_consumed_total", "counter", "Messages taken from the topic.",
                 number(s.consumed.load()));
    appendMetric(out, "coupon_worker_inserted_total", "counter", "Coupons written to MySQL.",
                 number(s.inserted.load()));
    appendMetric(out, "coupon_worker_duplicates_total", "counter",
                 "Messages for a coupon MySQL already had (replays), absorbed by the unique key.",
                 number(s.duplicates.load()));
    appendFamily(out, "coupon_worker_poison_total", "counter",
                 "Undecodable messages, and messages for an unknown campaign, recorded in failed_event, by reason.");
    for (size_t i = 0; i < kPoisonReasons.size(); ++i)
        appendSample(out, "coupon_worker_poison_total", "reason=\"" + QByteArray(kPoisonReasons[i]) + '"',
                     number(s.poisonByReason[i].load()));
    appendMetric(out, "coupon_worker_over_limit_total", "counter",
                 "Messages past their campaign's limit (MySQL's last guard), recorded in failed_event.",
                 number(s.overLimit.load()));
    appendMetric(out, "coupon_worker_batches_total", "counter", "Batches committed to MySQL.",
                 number(s.batches.load()));
    appendMetric(out, "coupon_worker_barriers_consumed_total", "counter",
                 "Reconcilers' barrier records consumed (committed past, nothing written).", number(s.barriers.load()));
    http::appendHistogram(out, "coupon_worker_batch_messages", "Messages per committed batch.", s.batchSize.bounds(),
                          s.batchSize.counts(), s.batchSize.sum());
    http::appendHistogram(out, "coupon_worker_commit_duration_seconds",
                          "Time to write and commit one batch's transaction.", s.commitSeconds.bounds(),
                          s.commitSeconds.counts(), s.commitSeconds.sum());
    appendFamily(out, "coupon_worker_lag_messages", "gauge",
                 "Messages on the topic not yet consumed, per partition this worker owns.");
    for (const auto &[partition, lag] : s.partitionLag())
        appendSample(out, "coupon_worker_lag_messages", "partition=\"" + number(partition) + '"', number(lag));
    appendMetric(out, "coupon_worker_assigned_partitions", "gauge", "Partitions of the topic this worker owns.",
                 number(s.assigned.load()));
    appendFamily(out, "coupon_worker_rebalances_total", "counter",
                 "Consumer group rebalances that gave this worker partitions (assign) or took them (revoke).");
    appendSample(out, "coupon_worker_rebalances_total", "kind=\"assign\"", number(s.assignments.load()));
    appendSample(out, "coupon_worker_rebalances_total", "kind=\"revoke\"", number(s.revocations.load()));
    appendMetric(out, "coupon_worker_mysql_errors_total", "counter",
                 "MySQL calls that failed (batches, pings, connects).", number(s.mysqlErrors.load()));
    appendMetric(out, "coupon_worker_paused", "gauge",
                 "Whether the partitions are paused while MySQL refuses a batch (1) or not (0).",
                 flag(s.paused.load()));
    appendMetric(out, "coupon_worker_loop_turns_total", "counter",
                 "Turns of the consumer's loop (a count that stops moving is a hung consumer).",
                 number(s.loops.load()));
    appendFamily(out, "coupon_worker_up", "gauge", "Whether a dependency answers (1) or not (0).");
    appendSample(out, "coupon_worker_up", "dependency=\"mysql\"", flag(s.mysqlUp.load()));
    appendSample(out, "coupon_worker_up", "dependency=\"kafka\"", flag(m_kafka.isUp()));
    appendMetric(out, "coupon_worker_ready", "gauge", "Whether /readyz answers 200 (1) or 503 (0).",
                 flag(readiness().ready));
    if (m_reconciler) {
        const ReconcilerStats &r = *m_reconciler;
        appendMetric(out, "coupon_worker_reconciler_leading", "gauge",
                     "Whether this worker holds the reconciler's lease (1) or not (0).", flag(r.leading.load()));
        appendMetric(out, "coupon_worker_reconciling_campaigns", "gauge",
                     "Campaigns answering reconciling (the leader's view).", number(r.reconciling.load()));
        appendMetric(out, "coupon_worker_reconciling_oldest_seconds", "gauge",
                     "How long the campaign reconciling the longest has been (the leader's view).",
                     QByteArray::number(double(r.reconcilingOldestMs.load()) / 1000.0));
        appendMetric(out, "coupon_worker_pending_oldest_age_seconds", "gauge",
                     "Age of the oldest pending reservation in Redis (the leader's view).",
                     QByteArray::number(double(r.pendingOldestAgeMs.load()) / 1000.0));
        appendMetric(out, "coupon_worker_settle_grace_seconds", "gauge",
                     "Pending reservations older than this are settled against MySQL once the topic is drained.",
                     QByteArray::number(double(r.graceMs.load()) / 1000.0));
        appendMetric(out, "coupon_worker_reconciler_errors_total", "counter", "Reconciler passes that failed.",
                     number(r.errors.load()));
        appendFamily(out, "coupon_worker_reconciler_barriers_total", "counter",
                     "Barriers the reconciler wrote on every partition (acks=all): acknowledged, or failed "
                     "(a partition below its in-sync replicas, or a follower stalled past the wait).");
        appendSample(out, "coupon_worker_reconciler_barriers_total", "result=\"ok\"", number(r.barriers.load()));
        appendSample(out, "coupon_worker_reconciler_barriers_total", "result=\"error\"",
                     number(r.barrierErrors.load()));
        appendMetric(out, "coupon_worker_reconciler_barrier_last_seconds", "gauge",
                     "How long the last barrier took to be acknowledged on every partition.",
                     QByteArray::number(double(r.barrierLastMs.load()) / 1000.0));
    }
    return out;
}

} // namespace coupon
