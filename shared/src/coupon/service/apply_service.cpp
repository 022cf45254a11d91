#include "coupon/service/apply_service.h"

#include "coupon/base/validation.h"
#include "coupon/kafka/kafka_errors.h"
#include "coupon/protocol/scripts.h"
#include "coupon/protocol/soldout_memo.h"
#include "coupon/redis/redis_errors.h"

#include <QHash>
#include <QLoggingCategory>
#include <QRandomGenerator>

#include <future>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcApply, "coupon.apply")

namespace coupon {

bool readApplyReply(const redisReply *r, ApplyResult &result)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) {
        result.status = ApplyStatus::Unavailable;
        result.detail = u"unexpected reply from the apply script"_s;
        return false;
    }
    const QByteArray verdict = replyString(r->element[0]);
    result.ticket = replyInteger(r->element[1]).value_or(0);
    result.appliedAtMs = replyInteger(r->element[2]).value_or(0);
    if (verdict == "accepted")
        result.status = ApplyStatus::Accepted; // reserved; durable only after the delivery report
    else if (verdict == "duplicate")
        result.status = ApplyStatus::Duplicate;
    else if (verdict == "sold_out")
        result.status = ApplyStatus::SoldOut;
    else if (verdict == "closed")
        result.status = ApplyStatus::Closed;
    else
        result.status = ApplyStatus::NotLoaded;
    if (result.status != ApplyStatus::Accepted)
        result.ticket = 0;
    return true;
}

ApplyService::ApplyService(const Settings &settings, Options options)
    : m_settings(settings)
    , m_memo(std::make_unique<SoldOutMemo>(settings.apply))
    , m_redis(std::make_unique<RedisPipeline>(settings.redis, options.redisLanes))
    , m_settleRedis(settings.redis)
{
    const quint64 random = QRandomGenerator::system()->generate64();
    m_requestPrefix = QByteArray::number(random, 36) + '-';
}

Result<std::unique_ptr<ApplyService>> ApplyService::create(const Settings &settings, Options options)
{
    std::unique_ptr<ApplyService> service(new ApplyService(settings, options));
    // Fail early with a clear message when Redis is not there at all; later
    // outages are per-apply answers (Unavailable) and heal by reconnecting.
    if (Status st = service->m_settleRedis.connect(); !st)
        return st.error();
    for (const LuaScript *script : {&scripts::apply(), &scripts::release()}) {
        Result<RedisReplyHandle> loaded = service->m_settleRedis.command({"SCRIPT", "LOAD", script->source});
        if (!loaded)
            return loaded.error();
    }
    Result<std::unique_ptr<CouponProducer>> producer = CouponProducer::create(settings);
    if (!producer)
        return producer.error();
    service->m_producer = std::move(producer).value();
    service->m_settler = std::thread([s = service.get()] { s->settleLoop(); });
    return service;
}

ApplyService::~ApplyService()
{
    // Applies waiting for Redis are decided (and produced) first; then every
    // produced message gets its delivery report, and so its answer, before
    // the settle thread stops.
    m_closing.store(true);
    m_redis.reset();
    m_producer.reset();
    {
        std::lock_guard lock(m_queueMutex);
        m_stopping = true;
    }
    m_queueCondition.notify_all();
    if (m_settler.joinable())
        m_settler.join();
}

void ApplyService::finish(ApplyResult result, const ApplyCallback &done)
{
    m_counts[size_t(result.status)].fetch_add(1, std::memory_order_relaxed);
    done(result);
}

void ApplyService::apply(const QString &campaign, qint64 userId, ApplyCallback done)
{
    ApplyResult result;
    result.requestId = m_requestPrefix + QByteArray::number(m_requestCounter.fetch_add(1), 36);
    if (!validateApply(campaign, userId, result))
        return finish(result, done);

    const SoldOutMemo::Lookup memo = m_memo->lookup(campaign, userId);
    if (memo.answer) {
        result.status = *memo.answer;
        return finish(result, done);
    }
    if (memo.check)
        checkMemo(campaign, memo);

    const CampaignKeys keys(campaign);
    m_outstanding.fetch_add(1);
    m_redis->eval(scripts::apply(), keys.all(), {QByteArray::number(userId)},
                  [this, campaign, userId, result, done = std::move(done)](Result<RedisReplyHandle> reply) mutable {
                      // On the pipeline lane's thread.
                      decided(campaign, userId, std::move(result), std::move(done), std::move(reply));
                  });
}

void ApplyService::decided(const QString &campaign, qint64 userId, ApplyResult result, ApplyCallback done,
                           Result<RedisReplyHandle> reply)
{
    if (!reply) {
        m_memo->clear(); // Redis may come back with other data: no snapshot survives this
        result.status = ApplyStatus::Unavailable;
        result.detail = reply.error().message;
        m_outstanding.fetch_sub(1);
        return finish(result, done);
    }
    if (!readApplyReply(reply->get(), result) || result.status != ApplyStatus::Accepted) {
        if (result.status == ApplyStatus::SoldOut) {
            if (const quint64 token = m_memo->claimLoad(campaign))
                loadMemo(campaign, token);
        }
        m_outstanding.fetch_sub(1);
        return finish(result, done);
    }

    m_memo->changed(campaign);
    const CouponMessage message = acceptedMessage(campaign, userId, result);
    auto pending = std::make_shared<Completion>(Completion{campaign, userId, {}, result, done});
    const Status produced = m_producer->produce(message, [this, pending](const DeliveryReport &report) {
        pending->report = report;
        enqueue(std::move(*pending));
    });
    if (!produced) {
        // Nothing was queued: the reservation goes back right here.
        pending->report.err = RD_KAFKA_RESP_ERR__FAIL;
        pending->report.status = RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
        pending->result.detail = produced.error().message;
        enqueue(std::move(*pending));
    }
}

void ApplyService::checkMemo(const QString &campaign, const SoldOutMemo::Lookup &due)
{
    const CampaignKeys keys(campaign);
    m_redis->eval(scripts::fingerprint(), {keys.meta, keys.count}, {},
                  [this, campaign, due](Result<RedisReplyHandle> reply) {
                      m_memo->checked(campaign, due, reply ? reply->get() : nullptr);
                  });
}

void ApplyService::loadMemo(const QString &campaign, quint64 token)
{
    // From a lane's thread; while the destructor drains the lanes, m_redis is being reset.
    if (m_closing.load())
        return;
    const CampaignKeys keys(campaign);
    m_redis->eval(scripts::soldOutSnapshot(), {keys.meta, keys.count, keys.users}, {m_memo->snapshotArgument()},
                  [this, campaign, token](Result<RedisReplyHandle> reply) {
                      m_memo->loaded(campaign, token, reply ? reply->get() : nullptr);
                  });
}

ApplyResult ApplyService::applyAndWait(const QString &campaign, qint64 userId)
{
    std::promise<ApplyResult> promise;
    std::future<ApplyResult> future = promise.get_future();
    apply(campaign, userId, [&promise](const ApplyResult &result) { promise.set_value(result); });
    return future.get();
}

void ApplyService::enqueue(Completion completion)
{
    {
        std::lock_guard lock(m_queueMutex);
        m_queue.push_back(std::move(completion));
    }
    m_queueCondition.notify_one();
}

void ApplyService::settleLoop()
{
    std::vector<Completion> batch;
    for (;;) {
        {
            std::unique_lock lock(m_queueMutex);
            m_queueCondition.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty() && m_stopping)
                return;
            while (!m_queue.empty() && batch.size() < 2000) {
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
        }
        settle(batch);
        batch.clear();
    }
}

void ApplyService::settle(std::vector<Completion> &batch)
{
    // Accepted and uncertain answers go out first: the confirmations that
    // follow are housekeeping (a lost one leaves the pending mark for the
    // reaper, which finds the coupon). Then one pipelined round trip: one
    // ZREM per campaign for the confirmations, the release script for each
    // definite failure, whose answer waits for it.
    QHash<QString, RedisArgs> confirmations;
    std::vector<RedisArgs> commands;
    std::vector<size_t> released;
    for (size_t i = 0; i < batch.size(); ++i) {
        Completion &c = batch[i];
        const CampaignKeys keys(c.campaign);
        const QByteArray user = QByteArray::number(c.userId);
        if (c.report.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            c.result.status = ApplyStatus::Accepted;
            c.result.partition = c.report.partition;
            c.result.offset = c.report.offset;
            RedisArgs &zrem = confirmations[c.campaign];
            if (zrem.empty())
                zrem = {"ZREM", keys.pending};
            zrem.push_back(user);
        } else if (c.report.status == RD_KAFKA_MSG_STATUS_NOT_PERSISTED) {
            c.result.status = ApplyStatus::Unavailable;
            if (c.result.detail.isEmpty())
                c.result.detail = errors::fromKafka(c.report.err, u"Kafka"_s).message;
            m_memo->changed(c.campaign);
            commands.push_back(evalshaCommand(scripts::release(), keys.all(), {user}));
            released.push_back(i);
            continue;
        } else {
            // Possibly written: keep the reservation pending; the reaper
            // settles it against MySQL once the topic is drained.
            c.result.status = ApplyStatus::Uncertain;
            c.result.detail = errors::fromKafka(c.report.err, u"Kafka (possibly persisted)"_s).message;
        }
        finish(c.result, c.done);
        m_outstanding.fetch_sub(1);
    }
    for (auto it = confirmations.begin(); it != confirmations.end(); ++it)
        commands.push_back(std::move(it.value()));
    if (!commands.empty()) {
        Result<std::vector<RedisReplyHandle>> replies = m_settleRedis.pipeline(commands);
        if (!replies) {
            // The answers stand; what Redis did not hear stays pending and
            // the reaper settles it (coupon present -> confirm, absent -> release).
            qCWarning(lcApply, "settle: %s; %zu command(s) not done, their reservations left pending for the reaper",
                      qPrintable(replies.error().message), commands.size());
        } else {
            for (size_t k = 0; k < released.size(); ++k) {
                if (errors::isNoScript((*replies)[k].get())) {
                    const Completion &c = batch[released[k]];
                    const CampaignKeys keys(c.campaign);
                    Result<RedisReplyHandle> again = m_settleRedis.eval(scripts::release(), keys.all(),
                                                                        {QByteArray::number(c.userId)});
                    if (!again)
                        qCWarning(lcApply, "release: %s", qPrintable(again.error().message));
                }
            }
        }
    }
    for (size_t i : released) {
        // Again once the release has run: a snapshot loaded in between held the user.
        m_memo->changed(batch[i].campaign);
        finish(batch[i].result, batch[i].done);
        m_outstanding.fetch_sub(1);
    }
}

} // namespace coupon
