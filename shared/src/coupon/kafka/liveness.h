#pragma once

// Whether a Kafka client can reach the topic, probed off the event loop.

#include "coupon/base/result.h"

#include <QString>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace coupon {

// A probe (a metadata request for the topic over the client's own
// connections: every partition has a leader; CouponProducer::checkTopic,
// CouponConsumer::checkTopic) on a thread of its own, every half second
// while up and every quarter second while down, so the gateway refuses
// applies at once while Kafka can't take them instead of waiting out the
// producer's delivery timeout, readiness comes back as soon as a broker
// answers again, and /readyz can say why. No group coordinator is asked.
class KafkaLiveness
{
public:
    // Asks the topic's metadata, waiting at most timeoutMs for a broker.
    using Probe = std::function<Status(int timeoutMs)>;

    KafkaLiveness() = default;
    ~KafkaLiveness(); // stops and joins the probe
    KafkaLiveness(const KafkaLiveness &) = delete;
    KafkaLiveness &operator=(const KafkaLiveness &) = delete;

    // Runs the first probe before it returns, waiting at most firstWaitMs
    // for a broker (a Kafka that is up answers in a few milliseconds; one
    // that is down does not hold the start longer than that), then probes
    // on its thread. What `probe` uses must outlive this object.
    void start(Probe probe, int firstWaitMs);
    bool isUp() const { return m_up.load(); }
    QString error() const; // the last probe's error; empty while up

private:
    void record(const Status &st);

    std::thread m_probe;
    std::atomic<bool> m_up{false};
    std::atomic<bool> m_stop{false};
    mutable std::mutex m_errorMutex;
    QString m_error;
};

} // namespace coupon
