#pragma once

#include "coupon/base/backoff.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka.h"
#include "coupon/protocol/apply_core.h"
#include "coupon/redis/async_redis.h"

#include <QHash>
#include <QObject>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace coupon {

// The apply protocol (ApplyCore decides) on the Qt event loop, for the gateway: the apply script
// through AsyncRedis (pipelined, never blocking the loop), the produce
// through the idempotent CouponProducer, whose delivery reports are handed
// back to this object's thread in batches. Same answers as ApplyService.
class AsyncApplyService : public QObject
{
    Q_OBJECT

public:
    AsyncApplyService(const Settings &settings, QObject *parent = nullptr);
    ~AsyncApplyService() override;

    // Creates the producer (without waiting for Kafka: a gateway starts while
    // it is down; CouponProducer::checkTopic says when it is up) and starts
    // connecting Redis.
    Status start();
    // Redis connected and the scripts loaded; the producer exists.
    bool isReady() const;
    QString notReadyReason() const;

    // `done` runs on this object's thread, exactly once.
    void apply(const QString &campaign, qint64 userId, ApplyCallback done);
    int inFlight() const { return m_inFlight; }

    AsyncRedis &redis() { return m_redis; }
    CouponProducer *producer() { return m_producer.get(); }
    qint64 kafkaErrors() const { return m_kafkaErrors; }
    const SoldOutMemo &memo() const { return m_core.memo(); }

    // Waits (bounded) for every produced message's delivery report.
    Status flush(int timeoutMs);

signals:
    void drained(); // inFlight() dropped to 0

private:
    struct Delivery
    {
        QString campaign;
        qint64 userId;
        ApplyResult result;
        ApplyCallback done;
        DeliveryReport report;
    };
    void loadScripts();
    void announceDeliveryTimeout();
    void decided(const QString &campaign, qint64 userId, ApplyResult result, ApplyCallback done,
                 const Result<const redisReply *> &reply);
    void loadMemo(const QString &campaign, quint64 token);
    void deliveriesArrived();
    // Answers one delivery; confirmations are collected per campaign and
    // sent as one ZREM each by the caller.
    void complete(Delivery &delivery, QHash<QString, RedisArgs> *confirmations);
    void sendConfirmations(QHash<QString, RedisArgs> &confirmations);
    const CampaignKeys &keysOf(const QString &campaign);
    void finish(const ApplyResult &result, const ApplyCallback &done);

    Settings m_settings;
    ApplyCore m_core;
    AsyncRedis m_redis;
    std::unique_ptr<CouponProducer> m_producer;
    bool m_scriptsLoaded = false;
    Backoff m_scriptBackoff;
    int m_inFlight = 0;
    qint64 m_kafkaErrors = 0;

    QHash<QString, CampaignKeys> m_keys; // campaign -> its Redis keys, built once

    std::mutex m_deliveryMutex;
    std::vector<Delivery> m_deliveries; // filled on the producer's poll thread
    std::atomic<bool> m_deliveryPosted{false};
};

} // namespace coupon
