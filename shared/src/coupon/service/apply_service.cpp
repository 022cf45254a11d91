#include "coupon/service/apply_service.h"

#include "coupon/base/threads.h"
#include "coupon/protocol/scripts.h"
#include "coupon/redis/redis_errors.h"

#include <QDateTime>
#include <QHash>
#include <QLoggingCategory>

#include <future>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcApply, "coupon.apply")

namespace coupon {

ApplyService::ApplyService(const Settings &settings, Options options)
    : m_settings(settings)
    , m_core(std::make_unique<ApplyCore>(settings.apply))
    , m_redis(std::make_unique<RedisPipeline>(settings.redis, options.redisLanes))
    , m_completionRedis(settings.redis)
{ }

Result<std::unique_ptr<ApplyService>> ApplyService::create(const Settings &settings, Options options)
{
    std::unique_ptr<ApplyService> service(new ApplyService(settings, options));
    // Fail early with a clear message when Redis is not there at all; later
    // outages are per-apply answers (Unavailable) and heal by reconnecting.
    if (Status st = service->m_completionRedis.connect(); !st)
        return st.error();
    for (const LuaScript *script : {&scripts::apply(), &scripts::release()}) {
        Result<RedisReplyHandle> loaded = service->m_completionRedis.command({"SCRIPT", "LOAD", script->source});
        if (!loaded)
            return loaded.error();
    }
    // Reconciliation waits out the longest delivery timeout any producer has.
    if (Result<RedisReplyHandle> told = service->m_completionRedis.command(
            {"ZADD", kDeliveryTimeoutsKey, QByteArray::number(QDateTime::currentMSecsSinceEpoch()),
             QByteArray::number(producerDeliveryTimeoutMs(settings.kafka))});
        !told)
        return told.error();
    Result<std::unique_ptr<CouponProducer>> producer = CouponProducer::create(settings);
    if (!producer)
        return producer.error();
    service->m_producer = std::move(producer).value();
    service->m_completer = std::thread([s = service.get()] {
        setCurrentThreadName("apply-complete");
        s->completionLoop();
    });
    return service;
}

ApplyService::~ApplyService()
{
    // Applies waiting for Redis are decided (and produced) first; then every
    // produced message gets its delivery report, and so its answer, before
    // the completion thread stops.
    m_closing.store(true);
    m_redis.reset();
    m_producer.reset();
    {
        std::lock_guard lock(m_queueMutex);
        m_stopping = true;
    }
    m_queueCondition.notify_all();
    if (m_completer.joinable())
        m_completer.join();
}

void ApplyService::finish(const ApplyResult &result, const ApplyCallback &done)
{
    m_counts[size_t(result.status)].fetch_add(1, std::memory_order_relaxed);
    done(result);
}

void ApplyService::apply(const QString &campaign, qint64 userId, ApplyCallback done)
{
    ApplyCore::Begin begin = m_core->begin(campaign, userId);
    if (begin.answered)
        return finish(begin.result, done);
    if (begin.memo.check)
        checkMemo(campaign, begin.memo);

    const CampaignKeys keys(campaign);
    m_outstanding.fetch_add(1);
    // The lane appends the Redis instance its connection reached: the script
    // decides only if the campaign was stamped by that same one.
    m_redis->evalOnInstance(scripts::apply(), keys.all(), {QByteArray::number(userId)},
                            [this, campaign, userId, result = std::move(begin.result), done = std::move(done)](
                                Result<RedisReplyHandle> reply, const QByteArray &instance) mutable {
                                // On the pipeline lane's thread.
                                result.instance = instance;
                                decided(campaign, userId, std::move(result), done, std::move(reply));
                            });
}

void ApplyService::decided(const QString &campaign, qint64 userId, ApplyResult result, const ApplyCallback &done,
                           Result<RedisReplyHandle> reply)
{
    const Reply parsed = reply ? toReply(reply->get()) : Reply{};
    const ApplyCore::Decision decision = m_core->decide(campaign, reply ? &parsed : nullptr,
                                                        reply ? Error() : reply.error(), result);
    if (decision.memoLoad)
        loadMemo(campaign, decision.memoLoad);
    if (!decision.produce) {
        m_outstanding.fetch_sub(1);
        return finish(result, done);
    }

    auto pending = std::make_shared<Completion>(Completion{campaign, userId, {}, result, done});
    const Status produced = m_producer->produce(m_core->message(campaign, userId, result),
                                                [this, pending](const DeliveryReport &report) {
                                                    pending->report = report;
                                                    enqueue(std::move(*pending));
                                                });
    if (!produced) {
        // Nothing was queued: the reservation goes back right here.
        pending->report.outcome = DeliveryReport::Outcome::NotPersisted;
        pending->result.detail = produced.error().message;
        enqueue(std::move(*pending));
    }
}

void ApplyService::checkMemo(const QString &campaign, const SoldOutMemo::Lookup &due)
{
    const CampaignKeys keys(campaign);
    m_redis->eval(scripts::fingerprint(), {keys.meta, keys.count}, {},
                  [this, campaign, due](Result<RedisReplyHandle> reply) {
                      const Reply parsed = reply ? toReply(reply->get()) : Reply{};
                      m_core->memoChecked(campaign, due, reply ? &parsed : nullptr);
                  });
}

void ApplyService::loadMemo(const QString &campaign, quint64 token)
{
    // From a lane's thread; while the destructor drains the lanes, m_redis is being reset.
    if (m_closing.load())
        return;
    const CampaignKeys keys(campaign);
    m_redis->evalOnInstance(scripts::soldOutSnapshot(), {keys.meta, keys.count, keys.users},
                            {m_core->memoSnapshotArgument()},
                            [this, campaign, token](Result<RedisReplyHandle> reply, const QByteArray &) {
                                const Reply parsed = reply ? toReply(reply->get()) : Reply{};
                                m_core->memoLoaded(campaign, token, reply ? &parsed : nullptr);
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

void ApplyService::completionLoop()
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
        complete(batch);
        batch.clear();
    }
}

void ApplyService::complete(std::vector<Completion> &batch)
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
        switch (m_core->delivered(c.campaign, c.report, c.result)) {
        case ApplyCore::AfterDelivery::Confirm: {
            RedisArgs &zrem = confirmations[c.campaign];
            if (zrem.empty())
                zrem = {"ZREM", keys.pending};
            zrem.push_back(user);
            break;
        }
        case ApplyCore::AfterDelivery::Release:
            // Only this reservation: its instance and pending score, never a later one.
            commands.push_back(evalshaCommand(scripts::release(), keys.all(),
                                              {user, c.result.instance, QByteArray::number(c.result.appliedAtMs)}));
            released.push_back(i);
            continue;
        case ApplyCore::AfterDelivery::KeepPending: break;
        }
        finish(c.result, c.done);
        m_outstanding.fetch_sub(1);
    }
    for (auto it = confirmations.begin(); it != confirmations.end(); ++it)
        commands.push_back(std::move(it.value()));
    if (!commands.empty()) {
        Result<std::vector<RedisReplyHandle>> replies = m_completionRedis.pipeline(commands);
        if (!replies) {
            // The answers stand; what Redis did not hear stays pending and
            // the reaper settles it (coupon present -> confirm, absent -> release).
            qCWarning(lcApply,
                      "after delivery: %s; %zu command(s) not done, their reservations left pending for the reaper",
                      qPrintable(replies.error().message), commands.size());
        } else {
            for (size_t k = 0; k < released.size(); ++k) {
                if (errors::isNoScript((*replies)[k].get())) {
                    const Completion &c = batch[released[k]];
                    const CampaignKeys keys(c.campaign);
                    Result<RedisReplyHandle> again = m_completionRedis.eval(
                        scripts::release(), keys.all(),
                        {QByteArray::number(c.userId), c.result.instance, QByteArray::number(c.result.appliedAtMs)});
                    if (!again)
                        qCWarning(lcApply, "release: %s", qPrintable(again.error().message));
                }
            }
        }
    }
    for (size_t i : released) {
        // Again once the release has run: a snapshot loaded in between held the user.
        m_core->released(batch[i].campaign);
        finish(batch[i].result, batch[i].done);
        m_outstanding.fetch_sub(1);
    }
}

} // namespace coupon
