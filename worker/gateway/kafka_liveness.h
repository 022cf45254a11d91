#pragma once

// Whether the producer can reach Kafka, probed off the event loop.

#include <QString>

#include <atomic>
#include <mutex>
#include <thread>

namespace coupon {
class CouponProducer;
}

namespace coupon::gateway {

// CouponProducer::checkTopic (a metadata request for the topic over the
// producer's own connections: every partition has a leader) on a thread of
// its own, every half second while up and every quarter second while down, so
// applies are refused at once while Kafka can't take them instead of waiting
// out the producer's delivery timeout, readiness comes back as soon as a
// broker answers again, and /readyz can say why. Applies need only the
// producer: no group coordinator is asked.
class KafkaLiveness
{
public:
    KafkaLiveness() = default;
    ~KafkaLiveness(); // stops and joins the probe
    KafkaLiveness(const KafkaLiveness &) = delete;
    KafkaLiveness &operator=(const KafkaLiveness &) = delete;

    // Counts as up until the first probe says otherwise. `producer` must
    // outlive this object.
    void start(const CouponProducer &producer);
    bool isUp() const { return m_up.load(); }
    QString error() const; // the last probe's error; empty while up

private:
    std::thread m_probe;
    std::atomic<bool> m_up{false};
    std::atomic<bool> m_stop{false};
    mutable std::mutex m_errorMutex;
    QString m_error;
};

} // namespace coupon::gateway
