#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka.h"
#include "coupon/protocol/apply_outcome.h"
#include "coupon/protocol/soldout_memo.h"
#include "coupon/redis/redis.h"

#include <QString>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace coupon {

// Reads {verdict, ticket, now_ms}; false when the reply has another shape.
bool readApplyReply(const redisReply *reply, ApplyResult &result);

// The apply protocol: validate -> one Lua script decides and reserves ->
// idempotent produce -> the delivery report settles it (confirm, or release
// and answer Unavailable). Safe to call from many threads at once: Redis
// commands go through a RedisPipeline (per-thread lanes, pipelined) and
// Kafka's producer is thread-safe; no lock is shared by all callers.
class ApplyService
{
public:
    struct Options
    {
        int redisLanes = 2; // pipelined Redis connections (RedisPipeline)
    };

    static Result<std::unique_ptr<ApplyService>> create(const Settings &settings, Options options);
    static Result<std::unique_ptr<ApplyService>> create(const Settings &settings)
    {
        return create(settings, Options{});
    }
    ~ApplyService(); // waits for every outstanding apply to be answered

    // `done` runs exactly once: on the calling thread for answers that need
    // no Kafka round trip, otherwise on the service's settle thread. It must
    // not block.
    void apply(const QString &campaign, qint64 userId, ApplyCallback done);
    ApplyResult applyAndWait(const QString &campaign, qint64 userId);

    qint64 count(ApplyStatus status) const { return m_counts[size_t(status)].load(); }
    qint64 outstanding() const { return m_outstanding.load(); }
    CouponProducer &producer() { return *m_producer; }
    const SoldOutMemo &memo() const { return *m_memo; }

private:
    struct Completion
    {
        QString campaign;
        qint64 userId;
        DeliveryReport report;
        ApplyResult result;
        ApplyCallback done;
    };

    ApplyService(const Settings &settings, Options options);
    void finish(ApplyResult result, const ApplyCallback &done);
    void decided(const QString &campaign, qint64 userId, ApplyResult result, ApplyCallback done,
                 Result<RedisReplyHandle> reply);
    void enqueue(Completion completion);
    void settleLoop();
    void settle(std::vector<Completion> &batch);
    void checkMemo(const QString &campaign, const SoldOutMemo::Lookup &due);
    void loadMemo(const QString &campaign, quint64 token);

    Settings m_settings;
    std::unique_ptr<SoldOutMemo> m_memo;    // outlives m_redis: its callbacks fill it
    std::atomic<bool> m_closing{false};     // the destructor runs: no new memo calls to Redis
    std::unique_ptr<RedisPipeline> m_redis; // first to stop: its callbacks produce
    RedisConnection m_settleRedis;
    std::unique_ptr<CouponProducer> m_producer;
    QByteArray m_requestPrefix;
    std::atomic<quint64> m_requestCounter{0};

    std::mutex m_queueMutex;
    std::condition_variable m_queueCondition;
    std::deque<Completion> m_queue;
    bool m_stopping = false;
    std::thread m_settler;

    std::array<std::atomic<qint64>, kApplyStatusCount> m_counts{};
    std::atomic<qint64> m_outstanding{0};
};

} // namespace coupon
