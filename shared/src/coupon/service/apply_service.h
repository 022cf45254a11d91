#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka.h"
#include "coupon/protocol/apply_core.h"
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

// The apply protocol (ApplyCore decides) on threads: validate -> one Lua
// script decides and reserves -> idempotent produce -> the delivery report
// settles it (confirm, or release and answer Unavailable). Safe to call from many threads at once: Redis
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
    // no Kafka round trip, otherwise on the service's completion thread. It must
    // not block.
    void apply(const QString &campaign, qint64 userId, ApplyCallback done);
    ApplyResult applyAndWait(const QString &campaign, qint64 userId);

    qint64 count(ApplyOutcome status) const { return m_counts[size_t(status)].load(); }
    qint64 outstanding() const { return m_outstanding.load(); }
    CouponProducer &producer() { return *m_producer; }
    const SoldOutMemo &memo() const { return m_core->memo(); }

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
    void finish(const ApplyResult &result, const ApplyCallback &done);
    void decided(const QString &campaign, qint64 userId, ApplyResult result, const ApplyCallback &done,
                 Result<RedisReplyHandle> reply);
    void enqueue(Completion completion);
    void completionLoop();
    void complete(std::vector<Completion> &batch);
    void checkMemo(const QString &campaign, const SoldOutMemo::Lookup &due);
    void loadMemo(const QString &campaign, quint64 token);

    Settings m_settings;
    std::unique_ptr<ApplyCore> m_core;      // outlives m_redis: its callbacks fill the memo
    std::atomic<bool> m_closing{false};     // the destructor runs: no new memo calls to Redis
    std::unique_ptr<RedisPipeline> m_redis; // first to stop: its callbacks produce
    RedisConnection m_completionRedis;
    std::unique_ptr<CouponProducer> m_producer;

    std::mutex m_queueMutex;
    std::condition_variable m_queueCondition;
    std::deque<Completion> m_queue;
    bool m_stopping = false;
    std::thread m_completer;

    std::array<std::atomic<qint64>, kApplyOutcomeCount> m_counts{};
    std::atomic<qint64> m_outstanding{0};
};

} // namespace coupon
