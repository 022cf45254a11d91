#include "coupon/service/async_apply_service.h"

#include "coupon/protocol/scripts.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QTimer>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAsyncApply, "coupon.apply")

namespace coupon {

AsyncApplyService::AsyncApplyService(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_core(settings.apply)
    , m_redis(settings.redis)
{
    connect(&m_redis, &AsyncRedis::connectedChanged, this, [this](bool connected) {
        m_scriptsLoaded = false;
        m_core.redisLost(); // Redis may come back with other data: no snapshot survives this
        if (connected) {
            loadScripts();
            announceDeliveryTimeout();
        }
    });
}

AsyncApplyService::~AsyncApplyService()
{
    // The producer's destructor flushes; its last delivery reports land in
    // m_deliveries, which nobody reads any more: answer them here.
    m_producer.reset();
    deliveriesArrived();
}

Status AsyncApplyService::start()
{
    Result<std::unique_ptr<CouponProducer>> producer = CouponProducer::create(m_settings,
                                                                              CouponProducer::TopicCheck::Later);
    if (!producer)
        return producer.error();
    m_producer = std::move(producer).value();
    m_redis.start();
    return Ok{};
}

void AsyncApplyService::announceDeliveryTimeout()
{
    // Reconciliation waits out the longest delivery timeout any producer
    // has: tell it ours, on every connect (a Redis that lost it hears it again).
    m_redis.command({"ZADD", kDeliveryTimeoutsKey, QByteArray::number(QDateTime::currentMSecsSinceEpoch()),
                     QByteArray::number(producerDeliveryTimeoutMs(m_settings.kafka))},
                    [](const Result<const redisReply *> &r) {
                        if (!r)
                            qCWarning(lcAsyncApply, "announcing the delivery timeout: %s",
                                      qPrintable(r.error().message));
                    });
}

void AsyncApplyService::loadScripts()
{
    // Retried with backoff until both are in, for as long as this connection
    // lasts (a new one starts over): readiness never stays stuck on one
    // failed load.
    auto loaded = std::make_shared<int>(0);
    auto failed = std::make_shared<bool>(false);
    const QByteArray instance = m_redis.instance();
    for (const LuaScript *script : {&scripts::apply(), &scripts::release()}) {
        m_redis.command(
            {"SCRIPT", "LOAD", script->source}, [this, loaded, failed, instance](const Result<const redisReply *> &r) {
                if (!r) {
                    if (*failed)
                        return;
                    *failed = true;
                    const int wait = m_scriptBackoff.nextMs();
                    qCWarning(lcAsyncApply, "SCRIPT LOAD: %s; again in %d ms", qPrintable(r.error().message), wait);
                    QTimer::singleShot(wait, this, [this, instance] {
                        if (m_redis.isConnected() && m_redis.instance() == instance && !m_scriptsLoaded)
                            loadScripts();
                    });
                    return;
                }
                if (++*loaded == 2) {
                    m_scriptsLoaded = true;
                    m_scriptBackoff.reset();
                }
            });
    }
}

bool AsyncApplyService::isReady() const
{
    return m_producer && m_redis.isConnected() && m_scriptsLoaded;
}

QString AsyncApplyService::notReadyReason() const
{
    if (!m_producer)
        return u"Kafka producer not started"_s;
    if (!m_redis.isConnected())
        return m_redis.lastError().isEmpty() ? u"Redis not connected"_s : m_redis.lastError();
    if (!m_scriptsLoaded)
        return u"Redis scripts not loaded yet"_s;
    return {};
}

void AsyncApplyService::finish(const ApplyResult &result, const ApplyCallback &done)
{
    done(result);
}

void AsyncApplyService::apply(const QString &campaign, qint64 userId, ApplyCallback done)
{
    ApplyCore::Begin begin = m_core.begin(campaign, userId);
    if (begin.answered)
        return finish(begin.result, done);
    if (!m_producer) {
        begin.result.status = ApplyOutcome::Unavailable;
        begin.result.detail = u"Kafka producer not started"_s;
        return finish(begin.result, done);
    }
    // The Redis this connection reached: the script decides only if the
    // campaign was stamped by the same one (no acknowledged write lost since).
    const QByteArray instance = m_redis.instance();
    if (instance.isEmpty()) {
        begin.result.status = ApplyOutcome::Unavailable;
        begin.result.detail = m_redis.lastError().isEmpty() ? u"Redis not connected"_s : m_redis.lastError();
        return finish(begin.result, done);
    }
    begin.result.instance = instance;
    const CampaignKeys &keys = keysOf(campaign);
    if (begin.memo.check) {
        m_redis.eval(scripts::fingerprint(), {keys.meta, keys.count}, {},
                     [this, campaign, due = begin.memo](const Result<const redisReply *> &reply) {
                         const Reply parsed = reply ? toReply(*reply) : Reply{};
                         m_core.memoChecked(campaign, due, reply ? &parsed : nullptr);
                     });
    }
    ++m_inFlight;
    m_redis.eval(scripts::apply(), keys.all(), {QByteArray::number(userId), instance},
                 [this, campaign, userId, result = std::move(begin.result),
                  done = std::move(done)](const Result<const redisReply *> &reply) mutable {
                     decided(campaign, userId, std::move(result), std::move(done), reply);
                 });
}

void AsyncApplyService::decided(const QString &campaign, qint64 userId, ApplyResult result, ApplyCallback done,
                                const Result<const redisReply *> &reply)
{
    const Reply parsed = reply ? toReply(*reply) : Reply{};
    const ApplyCore::Decision decision = m_core.decide(campaign, reply ? &parsed : nullptr,
                                                       reply ? Error() : reply.error(), result);
    if (decision.memoLoad)
        loadMemo(campaign, decision.memoLoad);
    if (!decision.produce) {
        --m_inFlight;
        finish(result, done);
        if (m_inFlight == 0)
            emit drained();
        return;
    }

    auto delivery = std::make_shared<Delivery>(Delivery{campaign, userId, result, std::move(done), {}});
    const Status produced = m_producer->produce(
        m_core.message(campaign, userId, result), [this, delivery](const DeliveryReport &report) {
            // The producer's poll thread: hand over, wake the loop once per batch.
            delivery->report = report;
            {
                std::lock_guard lock(m_deliveryMutex);
                m_deliveries.push_back(std::move(*delivery));
            }
            if (!m_deliveryPosted.exchange(true))
                QMetaObject::invokeMethod(this, &AsyncApplyService::deliveriesArrived, Qt::QueuedConnection);
        });
    if (!produced) {
        // Nothing was queued: the reservation goes back right here.
        delivery->report.outcome = DeliveryReport::Outcome::NotPersisted;
        delivery->result.detail = produced.error().message;
        complete(*delivery, nullptr);
    }
}

void AsyncApplyService::loadMemo(const QString &campaign, quint64 token)
{
    const CampaignKeys &keys = keysOf(campaign);
    m_redis.eval(scripts::soldOutSnapshot(), {keys.meta, keys.count, keys.users},
                 {m_core.memoSnapshotArgument(), m_redis.instance()},
                 [this, campaign, token](const Result<const redisReply *> &reply) {
                     const Reply parsed = reply ? toReply(*reply) : Reply{};
                     m_core.memoLoaded(campaign, token, reply ? &parsed : nullptr);
                 });
}

void AsyncApplyService::deliveriesArrived()
{
    std::vector<Delivery> batch;
    m_deliveryPosted.store(false);
    {
        std::lock_guard lock(m_deliveryMutex);
        batch.swap(m_deliveries);
    }
    QHash<QString, RedisArgs> confirmations;
    for (Delivery &d : batch)
        complete(d, &confirmations);
    sendConfirmations(confirmations);
}

const CampaignKeys &AsyncApplyService::keysOf(const QString &campaign)
{
    auto it = m_keys.find(campaign);
    if (it == m_keys.end()) {
        if (m_keys.size() > 4096)
            m_keys.clear(); // campaigns come and go; keep the cache bounded
        it = m_keys.insert(campaign, CampaignKeys(campaign));
    }
    return it.value();
}

void AsyncApplyService::sendConfirmations(QHash<QString, RedisArgs> &confirmations)
{
    // The answers don't wait for these: a lost confirmation only leaves the
    // pending mark for the reaper, which finds the coupon and drops it.
    for (auto it = confirmations.begin(); it != confirmations.end(); ++it)
        m_redis.command(it.value(), [](const Result<const redisReply *> &) {});
    confirmations.clear();
}

void AsyncApplyService::complete(Delivery &d, QHash<QString, RedisArgs> *confirmations)
{
    const CampaignKeys &keys = keysOf(d.campaign);
    const QByteArray user = QByteArray::number(d.userId);
    switch (m_core.delivered(d.campaign, d.report, d.result)) {
    case ApplyCore::AfterDelivery::Confirm:
        if (confirmations) {
            RedisArgs &zrem = (*confirmations)[d.campaign];
            if (zrem.empty())
                zrem = {"ZREM", keys.pending};
            zrem.push_back(user);
        }
        break;
    case ApplyCore::AfterDelivery::Release:
        ++m_kafkaErrors;
        // Only this reservation: its instance and its pending score (the
        // script's time), never a later one of the same user.
        m_redis.eval(
            scripts::release(), keys.all(), {user, d.result.instance, QByteArray::number(d.result.appliedAtMs)},
            [this, campaign = d.campaign](const Result<const redisReply *> &r) {
                m_core.released(campaign); // again once it has run (a NOSCRIPT retry comes later)
                if (!r)
                    qCWarning(lcAsyncApply, "release: %s (left pending for the reaper)", qPrintable(r.error().message));
            });
        break;
    case ApplyCore::AfterDelivery::KeepPending: ++m_kafkaErrors; break;
    }
    --m_inFlight;
    finish(d.result, d.done);
    if (m_inFlight == 0)
        emit drained();
}

Status AsyncApplyService::flush(int timeoutMs)
{
    if (!m_producer)
        return Ok{};
    return m_producer->flush(timeoutMs);
}

} // namespace coupon
