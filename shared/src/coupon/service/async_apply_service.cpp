#include "coupon/service/async_apply_service.h"

#include "coupon/kafka/kafka_errors.h"
#include "coupon/protocol/scripts.h"

#include <QDeadlineTimer>
#include <QLoggingCategory>
#include <QRandomGenerator>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAsyncApply, "coupon.apply")

namespace coupon {

AsyncApplyService::AsyncApplyService(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_memo(settings.apply)
    , m_redis(settings.redis)
{
    m_requestPrefix = QByteArray::number(QRandomGenerator::system()->generate64(), 36) + '-';
    connect(&m_redis, &AsyncRedis::connectedChanged, this, [this](bool connected) {
        m_scriptsLoaded = false;
        m_memo.clear(); // Redis may come back with other data: no snapshot survives this
        if (connected)
            loadScripts();
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
    Result<std::unique_ptr<CouponProducer>> producer = CouponProducer::create(m_settings);
    if (!producer)
        return producer.error();
    m_producer = std::move(producer).value();
    m_redis.start();
    return Ok{};
}

void AsyncApplyService::loadScripts()
{
    auto loaded = std::make_shared<int>(0);
    for (const LuaScript *script : {&scripts::apply(), &scripts::release()}) {
        m_redis.command({"SCRIPT", "LOAD", script->source}, [this, loaded](Result<const redisReply *> r) {
            if (!r) {
                qCWarning(lcAsyncApply, "SCRIPT LOAD: %s", qPrintable(r.error().message));
                return;
            }
            if (++*loaded == 2)
                m_scriptsLoaded = true;
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
    ApplyResult result;
    result.requestId = m_requestPrefix + QByteArray::number(++m_requestCounter, 36);
    if (!validateApply(campaign, userId, result))
        return finish(result, done);
    if (!m_producer) {
        result.status = ApplyStatus::Unavailable;
        result.detail = u"Kafka producer not started"_s;
        return finish(result, done);
    }
    const SoldOutMemo::Lookup memo = m_memo.lookup(campaign, userId);
    if (memo.answer) {
        result.status = *memo.answer;
        return finish(result, done);
    }
    const CampaignKeys &keys = keysOf(campaign);
    if (memo.check) {
        m_redis.eval(scripts::fingerprint(), {keys.meta, keys.count}, {},
                     [this, campaign, memo](Result<const redisReply *> reply) {
                         m_memo.checked(campaign, memo, reply ? *reply : nullptr);
                     });
    }
    ++m_inFlight;
    m_redis.eval(
        scripts::apply(), keys.all(), {QByteArray::number(userId)},
        [this, campaign, userId, result, done = std::move(done)](Result<const redisReply *> reply) mutable {
            auto leave = [this](const ApplyResult &r, const ApplyCallback &cb) {
                --m_inFlight;
                finish(r, cb);
                if (m_inFlight == 0)
                    emit drained();
            };
            if (!reply) {
                result.status = ApplyStatus::Unavailable;
                result.detail = reply.error().message;
                return leave(result, done);
            }
            if (!readApplyReply(*reply, result) || result.status != ApplyStatus::Accepted) {
                if (result.status == ApplyStatus::SoldOut) {
                    if (const quint64 token = m_memo.claimLoad(campaign))
                        loadMemo(campaign, token);
                }
                return leave(result, done);
            }

            m_memo.changed(campaign);
            auto delivery = std::make_shared<Delivery>(Delivery{campaign, userId, result, std::move(done), {}});
            const Status produced = m_producer->produce(
                acceptedMessage(campaign, userId, result), [this, delivery](const DeliveryReport &report) {
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
                delivery->report.err = RD_KAFKA_RESP_ERR__FAIL;
                delivery->report.status = RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
                delivery->result.detail = produced.error().message;
                settle(*delivery, nullptr);
            }
        });
}

void AsyncApplyService::loadMemo(const QString &campaign, quint64 token)
{
    const CampaignKeys &keys = keysOf(campaign);
    m_redis.eval(scripts::soldOutSnapshot(), {keys.meta, keys.count, keys.users}, {m_memo.snapshotArgument()},
                 [this, campaign, token](Result<const redisReply *> reply) {
                     m_memo.loaded(campaign, token, reply ? *reply : nullptr);
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
        settle(d, &confirmations);
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
        m_redis.command(it.value(), [](Result<const redisReply *>) {});
    confirmations.clear();
}

void AsyncApplyService::settle(Delivery &d, QHash<QString, RedisArgs> *confirmations)
{
    const CampaignKeys &keys = keysOf(d.campaign);
    const QByteArray user = QByteArray::number(d.userId);
    ApplyResult &result = d.result;
    if (d.report.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        result.status = ApplyStatus::Accepted;
        result.partition = d.report.partition;
        result.offset = d.report.offset;
        if (confirmations) {
            RedisArgs &zrem = (*confirmations)[d.campaign];
            if (zrem.empty())
                zrem = {"ZREM", keys.pending};
            zrem.push_back(user);
        }
    } else if (d.report.status == RD_KAFKA_MSG_STATUS_NOT_PERSISTED) {
        ++m_kafkaErrors;
        result.status = ApplyStatus::Unavailable;
        if (result.detail.isEmpty())
            result.detail = errors::fromKafka(d.report.err, u"Kafka"_s).message;
        m_memo.changed(d.campaign);
        m_redis.eval(
            scripts::release(), keys.all(), {user}, [this, campaign = d.campaign](Result<const redisReply *> r) {
                m_memo.changed(campaign); // again once it has run (a NOSCRIPT retry comes later)
                if (!r)
                    qCWarning(lcAsyncApply, "release: %s (left pending for the reaper)", qPrintable(r.error().message));
            });
    } else {
        ++m_kafkaErrors;
        result.status = ApplyStatus::Uncertain;
        result.detail = errors::fromKafka(d.report.err, u"Kafka (possibly persisted)"_s).message;
    }
    --m_inFlight;
    finish(result, d.done);
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
