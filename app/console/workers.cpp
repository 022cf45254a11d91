#include "workers.h"

#include "coupon/loadgen/tokens.h"

#include "coupon/kafka/group.h"
#include "coupon/kafka/kafka.h"
#include "coupon/loadgen/http_client.h"
#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/store.h"
#include "coupon/redis/redis.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "models.h"

#include <QDateTime>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSaveFile>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

ServiceState service(const QString &key, const QString &name, const QString &endpoint)
{
    ServiceState s;
    s.key = key;
    s.name = name;
    s.endpoint = endpoint;
    return s;
}

// Updates `state`; true when the bar has something new to show.
bool update(ServiceState &state, ServiceState::Health health, const QString &detail, const QString &error)
{
    const bool changed = state.health != health || state.detail != detail
        || (!error.isEmpty() && state.lastError != error);
    if (state.health != health)
        state.changedAtMs = nowMs();
    state.health = health;
    state.detail = detail;
    if (!error.isEmpty())
        state.lastError = error;
    return changed;
}

QTimer *singleShotTimer(QObject *owner, int intervalMs)
{
    auto *timer = new QTimer(owner);
    timer->setSingleShot(true);
    timer->setInterval(intervalMs);
    return timer;
}

} // namespace

QString gatewayKey(const QUrl &url)
{
    return u"gateway:"_s + url.authority();
}

// --- RedisMonitor ---------------------------------------------------------------

RedisMonitor::RedisMonitor(const RedisSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_state(service(u"redis"_s, u"Redis"_s, u"%1:%2"_s.arg(settings.host).arg(settings.port)))
{
    // A watcher must notice trouble quickly and keep its pace.
    m_settings.connectTimeoutMs = std::min(std::max(settings.connectTimeoutMs, 100), 1000);
    m_settings.commandTimeoutMs = std::min(std::max(settings.commandTimeoutMs, 100), 1000);
}

RedisMonitor::~RedisMonitor() = default;

void RedisMonitor::start(int intervalMs)
{
    m_redis = std::make_unique<RedisConnection>(m_settings);
    m_timer = singleShotTimer(this, intervalMs);
    connect(m_timer, &QTimer::timeout, this, &RedisMonitor::poll);
    poll();
}

void RedisMonitor::setCampaign(const QString &campaign)
{
    m_campaign = campaign;
}

void RedisMonitor::report(ServiceState::Health health, const QString &error)
{
    const QString detail = health == ServiceState::Up ? u"answering"_s : error;
    if (update(m_state, health, detail, error))
        emit serviceChanged(m_state);
}

void RedisMonitor::poll()
{
    if (m_campaign.isEmpty()) {
        Result<RedisReplyHandle> pong = m_redis->command({"PING"});
        report(pong ? ServiceState::Up : ServiceState::Down, pong ? QString() : pong.error().message);
    } else {
        const CampaignKeys keys(m_campaign);
        Result<std::vector<RedisReplyHandle>> replies = m_redis->pipeline({
            {"HMGET", keys.meta, "limit", "state"},
            {"GET", keys.count},
            {"SCARD", keys.users},
            {"ZCARD", keys.pending},
        });
        if (!replies) {
            report(ServiceState::Down, replies.error().message);
        } else {
            report(ServiceState::Up, {});
            RedisSample sample;
            sample.atMs = nowMs();
            sample.campaign = m_campaign;
            const redisReply *meta = (*replies)[0].get();
            if (meta->type == REDIS_REPLY_ARRAY && meta->elements == 2 && meta->element[0]->type != REDIS_REPLY_NIL) {
                sample.loaded = true;
                sample.limit = replyInteger(meta->element[0]).value_or(0);
                sample.state = QString::fromLatin1(replyString(meta->element[1]));
            }
            sample.count = replyInteger((*replies)[1].get()).value_or(0);
            sample.users = replyInteger((*replies)[2].get()).value_or(0);
            sample.pending = replyInteger((*replies)[3].get()).value_or(0);
            emit sampled(sample);
        }
    }
    m_timer->start();
}

// --- KafkaMonitor ---------------------------------------------------------------

KafkaMonitor::KafkaMonitor(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_kafka(service(u"kafka"_s, u"Kafka"_s, settings.kafka.bootstrapServers()))
    , m_workers(service(u"workers"_s, u"Workers"_s, settings.worker.group))
{ }

KafkaMonitor::~KafkaMonitor() = default;

void KafkaMonitor::start(int intervalMs)
{
    m_timer = singleShotTimer(this, intervalMs);
    connect(m_timer, &QTimer::timeout, this, &KafkaMonitor::poll);
    poll();
}

void KafkaMonitor::setInterval(int intervalMs)
{
    m_timer->setInterval(intervalMs);
    if (m_timer->isActive())
        m_timer->start();
}

void KafkaMonitor::setPaused(bool paused)
{
    m_paused = paused;
    if (!paused && !m_timer->isActive())
        poll();
}

void KafkaMonitor::poll()
{
    if (m_paused)
        return;
    constexpr int kTimeoutMs = 2000;
    LagSnapshot snapshot;
    snapshot.atMs = nowMs();
    if (!m_lag) {
        Result<std::unique_ptr<LagProbe>> probe = LagProbe::create(m_settings, m_settings.worker.group);
        if (probe)
            m_lag = std::move(probe).value();
        else
            snapshot.lagError = probe.error().message;
    }
    if (!m_group) {
        Result<std::unique_ptr<GroupProbe>> probe = GroupProbe::create(m_settings);
        if (probe)
            m_group = std::move(probe).value();
        else
            snapshot.groupError = probe.error().message;
    }
    if (m_lag) {
        Result<QList<PartitionLag>> lag = m_lag->query(kTimeoutMs);
        snapshot.lagOk = lag.ok();
        if (lag)
            snapshot.partitions = *lag;
        else
            snapshot.lagError = lag.error().message;
    }
    if (m_group && snapshot.lagOk) {
        Result<GroupDescription> group = m_group->describe(m_settings.worker.group, kTimeoutMs);
        snapshot.groupOk = group.ok();
        if (group)
            snapshot.group = *group;
        else
            snapshot.groupError = group.error().message;
    }
    if (update(
            m_kafka, snapshot.lagOk ? ServiceState::Up : ServiceState::Down,
            snapshot.lagOk
                ? tr("topic %1, %n partition(s)", nullptr, int(snapshot.partitions.size())).arg(m_settings.kafka.topic)
                : snapshot.lagError,
            snapshot.lagError))
        emit serviceChanged(m_kafka);
    bool workersChanged = false;
    if (snapshot.groupOk) {
        const int members = int(snapshot.group.members.size());
        const QString detail = tr("%n member(s), %1", nullptr, members).arg(snapshot.group.state);
        workersChanged = update(m_workers, members > 0 ? ServiceState::Up : ServiceState::Down, detail,
                                members > 0 ? QString() : tr("no worker in group %1").arg(m_settings.worker.group));
    } else {
        workersChanged = update(m_workers, ServiceState::Unknown,
                                snapshot.lagOk ? snapshot.groupError : tr("Kafka unreachable"), snapshot.groupError);
    }
    if (workersChanged)
        emit serviceChanged(m_workers);
    emit sampled(snapshot);
    if (!m_paused)
        m_timer->start();
}

// --- StoreWorker ------------------------------------------------------------------

StoreWorker::StoreWorker(const MysqlSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_state(
          service(u"mysql"_s, u"MySQL"_s, u"%1:%2/%3"_s.arg(settings.host).arg(settings.port).arg(settings.database)))
{ }

StoreWorker::~StoreWorker() = default;

void StoreWorker::start(int campaignsIntervalMs)
{
    m_store = std::make_unique<CouponStore>(m_settings, u"coupon-console-store"_s);
    m_timer = new QTimer(this);
    m_timer->setInterval(campaignsIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &StoreWorker::refreshCampaigns);
    m_timer->start();
    refreshCampaigns();
}

bool StoreWorker::ensureOpen()
{
    if (m_open)
        return true;
    const Status opened = m_store->reopen();
    if (!opened) {
        noteError(opened.error());
        return false;
    }
    m_open = true;
    return true;
}

void StoreWorker::noteError(const Error &error)
{
    if (!m_open || errors::isConnectionError(error)) {
        m_open = false;
        if (update(m_state, ServiceState::Down, error.message, error.message))
            emit serviceChanged(m_state);
    }
}

void StoreWorker::refreshCampaigns()
{
    if (!ensureOpen())
        return;
    Result<QList<Campaign>> campaigns = m_store->campaigns();
    if (!campaigns) {
        noteError(campaigns.error());
        return;
    }
    if (update(m_state, ServiceState::Up, tr("%n campaign(s)", nullptr, int(campaigns->size())), {}))
        emit serviceChanged(m_state);
    emit campaignsLoaded(*campaigns);
}

void StoreWorker::fetchCouponWindow(quint64 generation, const CouponWindowRequest &request)
{
    if (!ensureOpen()) {
        emit couponWindow(generation, request.position, {}, m_state.lastError);
        return;
    }
    Result<QList<CouponRow>> rows = request.afterId > 0
        ? m_store->coupons(request.campaign, request.afterId, request.limit, request.user)
        : request.beforeId > 0 ? m_store->couponsBefore(request.campaign, request.user, request.beforeId, request.limit)
                               : m_store->couponsAt(request.campaign, request.user, request.position, request.limit,
                                                    request.total, request.maxId);
    if (!rows) {
        noteError(rows.error());
        emit couponWindow(generation, request.position, {}, rows.error().message);
        return;
    }
    emit couponWindow(generation, request.position, *rows, {});
}

void StoreWorker::countCouponSpan(quint64 generation, const QString &campaign, UserFilter user, qint64 afterId)
{
    if (!ensureOpen()) {
        emit couponSpan(generation, afterId, 0, 0, m_state.lastError);
        return;
    }
    Result<CouponSpan> span = m_store->couponSpan(campaign, user, afterId);
    if (!span) {
        noteError(span.error());
        emit couponSpan(generation, afterId, 0, 0, span.error().message);
        return;
    }
    emit couponSpan(generation, afterId, span->count, span->maxId, {});
}

void StoreWorker::locateCoupon(quint64 generation, const QString &campaign, UserFilter user, const CouponJump &jump,
                               qint64 maxId)
{
    if (!ensureOpen()) {
        emit couponLocated(generation, -1, 0, m_state.lastError);
        return;
    }
    Result<std::optional<qint64>> id = m_store->findCoupon(campaign, user, jump, maxId);
    if (!id || !*id) {
        if (!id)
            noteError(id.error());
        emit couponLocated(generation, -1, 0, id ? QString() : id.error().message);
        return;
    }
    Result<qint64> position = m_store->couponPosition(campaign, user, **id);
    if (!position) {
        noteError(position.error());
        emit couponLocated(generation, -1, 0, position.error().message);
        return;
    }
    emit couponLocated(generation, *position, **id, {});
}

void StoreWorker::readIssued(const QString &campaign)
{
    // Always answers, so that the asker knows its request is done.
    if (!ensureOpen()) {
        emit issuedRead(campaign, -1);
        return;
    }
    Result<std::optional<Campaign>> c = m_store->campaign(campaign);
    if (!c)
        noteError(c.error());
    emit issuedRead(campaign, c && *c ? (*c)->issued : -1);
}

void StoreWorker::fetchFailedEvents(quint64 generation, const QString &campaign, qint64 afterId, int limit)
{
    if (!ensureOpen()) {
        emit failedEventsPage(generation, {}, m_state.lastError);
        return;
    }
    Result<QList<FailedEventRow>> rows = m_store->failedEvents(afterId, limit, campaign);
    if (!rows) {
        noteError(rows.error());
        emit failedEventsPage(generation, {}, rows.error().message);
        return;
    }
    emit failedEventsPage(generation, *rows, {});
}

void StoreWorker::countFailedEvents(const QString &campaign)
{
    if (!ensureOpen())
        return;
    Result<qint64> count = m_store->failedEventCount(campaign);
    if (count)
        emit failedEventCount(campaign, *count);
    else
        noteError(count.error());
}

void StoreWorker::exportCoupons(const QString &campaign, UserFilter user, const QString &path)
{
    if (!ensureOpen()) {
        emit exportFinished(path, 0, m_state.lastError);
        return;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        emit exportFinished(path, 0, file.errorString());
        return;
    }
    auto line = [&file](const QStringList &fields) { file.write((csvRecord(fields) + u'\n').toUtf8()); };
    line(couponCsvHeader());
    constexpr int kPage = 5000;
    qint64 afterId = 0, written = 0;
    for (;;) {
        Result<QList<CouponRow>> rows = m_store->coupons(campaign, afterId, kPage, user);
        if (!rows) {
            noteError(rows.error());
            file.cancelWriting();
            emit exportFinished(path, written, rows.error().message);
            return;
        }
        for (const CouponRow &r : *rows)
            line(couponCsvFields(r));
        written += rows->size();
        emit exportProgress(written);
        if (rows->size() < kPage)
            break;
        afterId = rows->constLast().id;
    }
    if (!file.commit()) {
        emit exportFinished(path, written, file.errorString());
        return;
    }
    emit exportFinished(path, written, {});
}

// --- OpsWorker --------------------------------------------------------------------

WorkerCampaignOps::WorkerCampaignOps(const Settings &settings, QString connectionName)
    : m_settings(settings)
    , m_connectionName(std::move(connectionName))
{ }

WorkerCampaignOps::~WorkerCampaignOps() = default;

Status WorkerCampaignOps::ensureConnected()
{
    if (!m_ops)
        m_ops = std::make_unique<CampaignOps>(m_settings, m_connectionName);
    if (m_connected)
        return Ok{};
    if (Status st = m_ops->connect(); !st)
        return st;
    m_connected = true;
    return Ok{};
}

void WorkerCampaignOps::noteError(const Error &error)
{
    if (errors::isConnectionError(error) || error.is(Errc::RedisUnavailable))
        m_connected = false;
}

OpsWorker::OpsWorker(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_ops(settings, u"coupon-console-ops"_s)
{ }

OpsWorker::~OpsWorker() = default;

Status OpsWorker::ensureConnected()
{
    return m_ops.ensureConnected();
}

void OpsWorker::finish(const QString &tag, const QString &campaign, const Status &status, const QString &done)
{
    if (!status)
        m_ops.noteError(status.error());
    emit operationFinished(tag, campaign, status.ok(), status.ok() ? done : status.error().message);
}

void OpsWorker::create(const Campaign &campaign, bool openIt, const QString &tag)
{
    Status st = ensureConnected();
    if (st)
        st = m_ops->create(campaign);
    if (st && openIt)
        st = m_ops->open(campaign.id);
    finish(tag, campaign.id, st,
           openIt ? tr("Created and opened %1 (limit %2).").arg(campaign.id).arg(campaign.limit)
                  : tr("Created %1 (limit %2).").arg(campaign.id).arg(campaign.limit));
}

void OpsWorker::open(const QString &campaign)
{
    Status st = ensureConnected();
    if (st)
        st = m_ops->open(campaign);
    finish(u"open"_s, campaign, st, tr("Opened %1.").arg(campaign));
}

void OpsWorker::close(const QString &campaign)
{
    Status st = ensureConnected();
    if (st)
        st = m_ops->close(campaign);
    finish(u"close"_s, campaign, st, tr("Closed %1.").arg(campaign));
}

void OpsWorker::setLimit(const QString &campaign, qint64 limit)
{
    Status st = ensureConnected();
    if (st)
        st = m_ops->setLimit(campaign, limit);
    finish(u"limit"_s, campaign, st, tr("The limit of %1 is now %2.").arg(campaign).arg(limit));
}

void OpsWorker::reset(const QString &campaign)
{
    Status st = ensureConnected();
    if (st)
        st = m_ops->reset(campaign, 60000);
    finish(u"reset"_s, campaign, st, tr("Reset %1: no coupons, a fresh counter.").arg(campaign));
}

void OpsWorker::audit(quint64 auditId, const QString &campaign, const AnsweredApplies &answered, int timeoutMs)
{
    if (Status st = ensureConnected(); !st) {
        emit auditFinished(auditId, campaign, {}, st.error().message);
        return;
    }
    Result<AuditReport> report = m_ops->audit(campaign, timeoutMs, &answered);
    if (!report) {
        finish(u"audit"_s, campaign, report.error(), {});
        emit auditFinished(auditId, campaign, {}, report.error().message);
        return;
    }
    emit auditFinished(auditId, campaign, *report, {});
}

void OpsWorker::retryFailedEvent(const FailedEventRetry &retry)
{
    if (Status st = ensureConnected(); !st) {
        emit failedEventHandled(retry.id, false, false, st.error().message);
        return;
    }
    FailedEventOps failed(m_ops->store(), applyThrough(m_settings, m_apply));
    Result<RetryReport> report = failed.retry(retry.id, retry.by, retry.correction, retry.confirmation);
    if (!report) {
        finish(u"retry"_s, {}, report.error(), {});
        emit failedEventHandled(retry.id, false, false, report.error().message);
        return;
    }
    emit failedEventHandled(
        retry.id, report->resolved, report->resolved,
        report->resolved ? tr("Failed event %1 retried and resolved: %2").arg(retry.id).arg(report->outcome)
                         : tr("Failed event %1 retried, still unresolved: %2").arg(retry.id).arg(report->outcome));
}

void OpsWorker::resolveFailedEvent(qint64 id, const QString &by, const QString &reason)
{
    Status st = ensureConnected();
    if (st)
        st = FailedEventOps(m_ops->store(), {}).resolve(id, by, reason);
    emit failedEventHandled(id, st.ok(), st.ok(),
                            st ? tr("Failed event %1 resolved by %2.").arg(id).arg(by) : st.error().message);
}

void OpsWorker::settle(const QString &campaign)
{
    if (Status st = ensureConnected(); !st) {
        emit settleFinished(campaign, {}, st.error().message);
        return;
    }
    Result<SettleReport> report = m_ops->settle(campaign, 0);
    if (!report) {
        finish(u"settle"_s, campaign, report.error(), {});
        emit settleFinished(campaign, {}, report.error().message);
        return;
    }
    emit settleFinished(campaign, *report, {});
}

// --- SimulationWorker -----------------------------------------------------------------

SimulationWorker::SimulationWorker(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{ }

SimulationWorker::~SimulationWorker() = default;

void SimulationWorker::run(const SimulationRun &run)
{
    if (run.target.isEmpty()) {
        if (!m_service) {
            Result<std::unique_ptr<ApplyService>> created = ApplyService::create(m_settings);
            if (!created) {
                emit finished({}, created.error().message);
                return;
            }
            m_service = std::move(created).value();
        }
        emit finished(simulate(*m_service, run.options, run.progress.get(), run.cancel.get()), {});
        return;
    }
    Result<QList<QUrl>> targets = parseTargets(run.target);
    if (!targets) {
        emit finished({}, targets.error().message);
        return;
    }
    // A gateway wants a token per user: minted with auth.signing.key.
    Result<std::shared_ptr<const TokenMinter>> tokens = TokenMinter::fromSettings(m_settings);
    if (!tokens) {
        emit finished({}, tokens.error().message);
        return;
    }
    SimulationOptions options = run.options;
    options.tokens = *tokens;
    Result<SimulationReport> report = simulateHttp(*targets, options, run.progress.get(), run.cancel.get());
    if (!report)
        emit finished({}, report.error().message);
    else
        emit finished(*report, {});
}

// --- GatewayMonitor -------------------------------------------------------------------

GatewayMonitor::GatewayMonitor(QObject *parent)
    : QObject(parent)
{ }

GatewayMonitor::~GatewayMonitor() = default;

void GatewayMonitor::start(const QStringList &urls, int intervalMs)
{
    m_network = new QNetworkAccessManager(this);
    for (const QString &line : urls) {
        const QUrl url(line.section(u' ', 0, 0, QString::SectionSkipEmpty));
        const QString admin = line.section(u' ', 1, 1, QString::SectionSkipEmpty);
        m_urls << url;
        m_probes << (admin.isEmpty() ? url.resolved(QUrl(u"/healthz"_s)) : QUrl(admin).resolved(QUrl(u"/readyz"_s)));
        m_states.insert(gatewayKey(url), service(gatewayKey(url), tr("Gateway"), url.authority()));
    }
    m_timer = new QTimer(this);
    m_timer->setInterval(intervalMs);
    connect(m_timer, &QTimer::timeout, this, &GatewayMonitor::poll);
    m_timer->start();
    poll();
}

void GatewayMonitor::poll()
{
    for (qsizetype i = 0; i < m_urls.size(); ++i) {
        const QUrl &url = m_urls[i];
        QNetworkRequest request(m_probes[i]);
        request.setTransferTimeout(1500);
        QNetworkReply *reply = m_network->get(request);
        connect(reply, &QNetworkReply::finished, this, [this, reply, key = gatewayKey(url)] {
            reply->deleteLater();
            const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            ServiceState &state = m_states[key];
            bool changed = false;
            if (code == 200) {
                changed = update(state, ServiceState::Up, tr("ready"), {});
            } else {
                const QString why = code > 0
                    ? tr("HTTP %1: %2").arg(code).arg(QString::fromUtf8(reply->readAll().left(200)))
                    : reply->errorString();
                changed = update(state, ServiceState::Down, why, why);
            }
            if (changed)
                emit serviceChanged(state);
        });
    }
}

} // namespace coupon::console
