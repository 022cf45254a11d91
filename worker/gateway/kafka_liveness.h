#pragma once

// Whether a Kafka broker answers, probed off the event loop.

#include "coupon/base/result.h"
#include "coupon/base/settings.h"

#include <QString>

#include <atomic>
#include <mutex>
#include <thread>

namespace coupon::gateway {

// A metadata request (up to 1.5 s), then a second's pause, on a thread of its
// own, so applies are refused at once while no broker answers instead of
// waiting out the producer's delivery timeout, and /readyz can say why.
class KafkaLiveness
{
public:
    KafkaLiveness() = default;
    ~KafkaLiveness(); // stops and joins the probe
    KafkaLiveness(const KafkaLiveness &) = delete;
    KafkaLiveness &operator=(const KafkaLiveness &) = delete;

    // Counts as up until the first probe says otherwise.
    Status start(const Settings &settings);
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
