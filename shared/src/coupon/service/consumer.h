#pragma once

#include "coupon/base/backoff.h"
#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka_handles.h"
#include "coupon/mysql/store.h"

#include <QString>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace coupon {

// A histogram one thread observes into and others read without a lock:
// per-bucket counts (not cumulative) for each upper bound, then +Inf. A
// reader may see an observation in a bucket before it is in the sum.
template <size_t N>
class AtomicHistogram
{
public:
    explicit constexpr AtomicHistogram(const std::array<double, N> &bounds)
        : m_bounds(bounds)
    { }
    void observe(double value)
    {
        size_t bucket = 0;
        while (bucket < N && value > m_bounds[bucket])
            ++bucket;
        m_counts[bucket].fetch_add(1, std::memory_order_relaxed);
        // One writer: load and store suffice.
        m_sum.store(m_sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
    }
    const std::array<double, N> &bounds() const { return m_bounds; }
    std::array<qint64, N + 1> counts() const
    {
        std::array<qint64, N + 1> out{};
        for (size_t i = 0; i <= N; ++i)
            out[i] = m_counts[i].load(std::memory_order_relaxed);
        return out;
    }
    double sum() const { return m_sum.load(std::memory_order_relaxed); }

private:
    const std::array<double, N> &m_bounds;
    std::array<std::atomic<qint64>, N + 1> m_counts{};
    std::atomic<double> m_sum{0};
};

inline constexpr std::array<double, 10> kBatchSizeBounds{1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000};
inline constexpr std::array<double, 13> kCommitSecondsBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                             0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
// Why a message went to failed_event instead of coupon (the batch writer's
// and the codec's reasons); anything else counts as "other".
inline constexpr std::array<const char *, 7> kPoisonReasons{
    "value_size", "user_id_range", "key_mismatch", "bad_campaign", "bad_header", "unknown_campaign", "other"};
inline constexpr const char kOverLimitReason[] = "over_limit";

// What the consumer publishes for the worker's admin listener, its status
// line and the watchdog. Written by the consumer's thread only; read from
// any thread: atomics, and a lock held only to copy the per-partition lag.
struct ConsumerStats
{
    std::atomic<qint64> consumed{0};
    std::atomic<qint64> barriers{0}; // reconcilers' barrier records passed (of consumed)
    std::atomic<qint64> inserted{0};
    std::atomic<qint64> duplicates{0};
    std::atomic<qint64> poison{0};    // every reason, over_limit included
    std::atomic<qint64> overLimit{0}; // of which over the campaign's limit
    std::array<std::atomic<qint64>, kPoisonReasons.size()> poisonByReason{};
    std::atomic<qint64> batches{0};
    std::atomic<qint64> mysqlErrors{0};
    std::atomic<qint64> lag{-1}; // of this member's partitions, -1 before the first estimate
    std::atomic<int> assigned{0};
    std::atomic<qint64> assignments{0}; // rebalances that gave this member partitions
    std::atomic<qint64> revocations{0}; // rebalances that took them
    std::atomic<bool> paused{false};
    // MySQL answered the last time it was asked (open, a batch, an idle ping).
    std::atomic<bool> mysqlUp{false};
    // Turns of the consumer's loop (its polls, and its waits for MySQL at
    // start): a count that stops moving is a consumer that hangs (the
    // watchdog's view).
    std::atomic<qint64> loops{0};
    AtomicHistogram<kBatchSizeBounds.size()> batchSize{kBatchSizeBounds};
    AtomicHistogram<kCommitSecondsBounds.size()> commitSeconds{kCommitSecondsBounds};

    std::vector<std::pair<int32_t, int64_t>> partitionLag() const
    {
        std::lock_guard lock(m_mutex);
        return m_partitionLag;
    }
    QString lastMysqlError() const
    {
        std::lock_guard lock(m_mutex);
        return m_lastMysqlError;
    }
    void setPartitionLag(std::vector<std::pair<int32_t, int64_t>> byPartition)
    {
        std::lock_guard lock(m_mutex);
        m_partitionLag = std::move(byPartition);
    }
    void setMysqlError(const QString &error)
    {
        mysqlUp.store(error.isEmpty());
        std::lock_guard lock(m_mutex);
        m_lastMysqlError = error;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::pair<int32_t, int64_t>> m_partitionLag; // partition -> lag, this member's
    QString m_lastMysqlError;
};

// The worker's engine: joins the consumer group on the topic, collects
// batches (worker.batch.size messages or worker.batch.ms), writes each in one
// MySQL transaction and only then stores the batch's offsets, which the
// auto-committer sends. On MySQL errors it pauses its partitions, backs off
// exponentially and retries the same batch until it lands. A revoke writes
// what it holds first, or drops it uncommitted for the next owner to re-read.
class CouponConsumer
{
public:
    using Clock = std::chrono::steady_clock;

    static Result<std::unique_ptr<CouponConsumer>> create(const Settings &settings);
    ~CouponConsumer();

    // Blocks until `stop` is set: opens MySQL (retrying), checks/applies the
    // schema, subscribes and drains. On stop it finishes the batch in hand
    // (if MySQL takes it), commits and leaves the group. Returns an error only
    // for what retrying cannot fix (schema, configuration).
    Status run(const std::atomic<bool> &stop);

    const ConsumerStats &stats() const { return m_stats; }
    // Whether this consumer can reach the topic (checkTopicMetadata over its
    // own connections); callable from any thread while run() runs.
    Status checkTopic(int timeoutMs) const;

private:
    explicit CouponConsumer(const Settings &settings);
    static void rebalanceTrampoline(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t *partitions, void *opaque);
    void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *partitions);
    // The steps of run(), in order.
    bool openStore(const std::atomic<bool> &stop); // false: stopped before MySQL answered
    Status subscribe();
    // Polls into m_batch until it is full, its window closes, the consumer
    // is idle, or (paused) the retry is due.
    void collectBatch(const std::atomic<bool> &stop);
    // Writes m_batch; on failure pauses the partitions and schedules the retry.
    void writeOrPause();
    void leave(); // the batch in hand if MySQL takes it, then out of the group

    void add(const rd_kafka_message_t *message);
    // Writes m_batch; on success stores its offsets and clears it.
    Status flush();
    void setPaused(bool paused);
    void updateLag();
    // While idle: asks MySQL (a ping) when it was last heard from a while
    // ago, so readiness notices a MySQL that went away between batches.
    void checkMysqlWhenIdle();

    Settings m_settings;
    KafkaHandle m_rk;
    std::unique_ptr<CouponStore> m_store;
    std::vector<IncomingRecord> m_batch;
    std::vector<std::pair<int32_t, int64_t>> m_batchEnd; // partition -> next offset
    ConsumerStats m_stats;
    bool m_paused = false;
    Backoff m_retryBackoff;                        // between attempts at the same batch
    Clock::time_point m_retryAt = Clock::now();    // while paused: when to try the batch again
    Clock::time_point m_mysqlHeard = Clock::now(); // the last answer from MySQL
};

} // namespace coupon
