#pragma once

#include "coupon/base/backoff.h"
#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka_handles.h"
#include "coupon/mysql/store.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace coupon {

struct ConsumerStats
{
    std::atomic<qint64> consumed{0};
    std::atomic<qint64> inserted{0};
    std::atomic<qint64> duplicates{0};
    std::atomic<qint64> poison{0};
    std::atomic<qint64> batches{0};
    std::atomic<qint64> mysqlErrors{0};
    std::atomic<qint64> lag{-1}; // of this member's partitions, -1 before the first estimate
    std::atomic<int> assigned{0};
    std::atomic<bool> paused{false};
    // Turns of the consumer's loop (and of its wait for MySQL at start): a
    // count that stops moving is a consumer that hangs (the watchdog's view).
    std::atomic<qint64> loops{0};
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

    Settings m_settings;
    KafkaHandle m_rk;
    std::unique_ptr<CouponStore> m_store;
    std::vector<IncomingRecord> m_batch;
    std::vector<std::pair<int32_t, int64_t>> m_batchEnd; // partition -> next offset
    ConsumerStats m_stats;
    bool m_paused = false;
    Backoff m_retryBackoff;                     // between attempts at the same batch
    Clock::time_point m_retryAt = Clock::now(); // while paused: when to try the batch again
};

} // namespace coupon
