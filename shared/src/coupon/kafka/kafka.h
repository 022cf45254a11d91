#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka_handles.h"
#include "coupon/protocol/codec.h"
#include "coupon/protocol/delivery.h"

#include <QList>
#include <QMap>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

namespace coupon {

// A librdkafka configuration: `defaults` first, then every kafka.* setting,
// then `forced`. An invalid property fails with the setting's name
// ("kafka.<property> = ...: <librdkafka's reason>").
Result<KafkaConfHandle> makeKafkaConf(const Settings &settings, const QMap<QString, QString> &defaults,
                                      const QMap<QString, QString> &forced);

// The one way a librdkafka client is made: of `type`, on that configuration
// (see makeKafkaConf), after `hooks` set its callbacks and opaque.
using KafkaConfHooks = std::function<void(rd_kafka_conf_t *)>;
Result<KafkaHandle> newKafkaClient(rd_kafka_type_t type, const Settings &settings,
                                   const QMap<QString, QString> &defaults, const QMap<QString, QString> &forced,
                                   const KafkaConfHooks &hooks = {});

// The idempotent producer of coupon_create (enable.idempotence=true,
// acks=all). Delivery callbacks run on the producer's own poll thread, so
// they must be quick and must not block. A fatal producer error (e.g. the
// idempotence epoch fenced) recreates the producer: messages of the old one
// complete through their callbacks with an error and their real persisted
// status, and later produces go to the new one. Thread-safe.
// How long after produce() a message of ours may still be persisted:
// kafka.message.timeout.ms (or delivery.timeout.ms), else CouponProducer's
// default of 10 s. Reconciliation and settlement wait this out.
qint64 producerDeliveryTimeoutMs(const KafkaSettings &kafka);

// A metadata request for `topic` over `rk`'s own broker connections: ok when
// the topic is there and every partition has a leader. Blocks up to
// `timeoutMs`, returning as soon as a broker answers. Thread-safe (any
// client's handle, the consumer's too, while it polls on another thread).
Status checkTopicMetadata(rd_kafka_t *rk, const QString &topic, int timeoutMs);
// The cluster's metadata of one topic (topics[0] is it); errors name the
// topic, a topic the cluster does not know included.
Result<KafkaMetadataHandle> topicMetadata(rd_kafka_t *rk, const QString &topic, int timeoutMs);

class CouponProducer
{
public:
    // AtStart: create() fails, with the topic's name, when no broker answers
    // within 10 s or the topic is not there (couponctl, the console: a
    // command that cannot produce says so at once). Later: create() does
    // not wait for Kafka; checkTopic() tells when it can produce (a
    // service that starts while Kafka is down and becomes ready by itself).
    enum class TopicCheck { AtStart, Later };
    static Result<std::unique_ptr<CouponProducer>> create(const Settings &settings,
                                                          TopicCheck check = TopicCheck::AtStart);
    ~CouponProducer(); // flushes for up to 10 s, then fails what is left

    CouponProducer(const CouponProducer &) = delete;
    CouponProducer &operator=(const CouponProducer &) = delete;

    // On an error nothing was queued and `callback` is never called.
    Status produce(const CouponMessage &message, DeliveryCallback callback);
    // Waits until every queued message has a delivery report.
    Status flush(int timeoutMs);

    // Whether applies can be produced now, as this producer sees it: a
    // metadata request for the topic over the producer's own broker
    // connections (no group coordinator involved), ok when the topic is
    // there and every partition has a leader. Blocks up to `timeoutMs`, and
    // returns as soon as a broker answers once one is back.
    Status checkTopic(int timeoutMs) const;

    qint64 recreations() const { return m_recreations.load(); }
    QString lastError() const;

    // Test hook: raises a fatal error in the current producer as a broker
    // fencing would (rd_kafka_test_fatal_error).
    void raiseFatalErrorForTest();

private:
    struct Handle;
    explicit CouponProducer(const Settings &settings);
    Result<std::shared_ptr<Handle>> newHandle();
    void pollLoop();
    void replaceAfterFatalError();

    Settings m_settings;
    QByteArray m_topic;
    std::atomic<std::shared_ptr<Handle>> m_handle;
    std::atomic<bool> m_stop{false};
    std::atomic<qint64> m_recreations{0};
    mutable std::mutex m_errorMutex;
    QString m_lastError;
    std::thread m_poller;
};

struct PartitionLag
{
    int32_t partition = -1;
    int64_t committed = -1; // -1: the group never committed on this partition
    int64_t logStart = 0;
    int64_t logEnd = 0;
    int64_t lag() const { return committed < 0 ? logEnd - logStart : logEnd - committed; }
};

// Offsets of a consumer group on a topic, as kafka-consumer-groups --describe
// shows them. Holds one client connection; not thread-safe.
class LagProbe
{
public:
    static Result<std::unique_ptr<LagProbe>> create(const Settings &settings, const QString &group);
    Result<QList<PartitionLag>> query(int timeoutMs = 5000);
    static int64_t total(const QList<PartitionLag> &lags);

private:
    LagProbe() = default;
    KafkaHandle m_client;
    QByteArray m_topic;
};

// A barrier through the log (docs/DESIGN.md, "Redis is a cache of
// promises"): one record with the header `coupon-barrier` (value `who`) on
// every partition of the topic, acks=all, waiting up to timeoutMs for all
// of them. Returns per partition the offset just past its barrier (logStart
// = the barrier's offset, logEnd = one past it), to wait on as a topic
// snapshot. Unlike the high watermark, this also covers a record a leader
// had appended but not yet committed (a follower in the ISR that stalls):
// such a record lies before the barrier and is committed with it, or is
// truncated and never read. The worker skips barrier records.
// Errors: "kafka.create", "kafka.unavailable" (metadata or a delivery failed).
Result<QList<PartitionLag>> appendBarriers(const Settings &settings, const QByteArray &who, int timeoutMs);

} // namespace coupon
