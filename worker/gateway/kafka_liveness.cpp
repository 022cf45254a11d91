#include "gateway/kafka_liveness.h"

#include "coupon/base/threads.h"
#include "coupon/kafka/kafka.h"

#include <algorithm>
#include <chrono>

namespace coupon::gateway {

namespace {

// One probe's bound: while no broker is up the metadata request waits this
// long for one, and returns as soon as one is.
constexpr int kProbeTimeoutMs = 1000;
// While up, a probe every half second (how soon a broker's loss is
// noticed, besides the probe's own bound); while down, one at most every
// quarter second: a probe waits for a broker itself, but one that answers
// with an error (topic missing, a partition without a leader) answers fast.
constexpr int kUpEveryMs = 500;
constexpr int kDownEveryMs = 250;

} // namespace

KafkaLiveness::~KafkaLiveness()
{
    m_stop.store(true);
    if (m_probe.joinable())
        m_probe.join();
}

QString KafkaLiveness::error() const
{
    std::lock_guard lock(m_errorMutex);
    return m_error;
}

void KafkaLiveness::start(const CouponProducer &producer)
{
    m_up.store(true);
    m_probe = std::thread([this, &producer] {
        setCurrentThreadName("kafka-liveness");
        using Clock = std::chrono::steady_clock;
        while (!m_stop.load()) {
            const Clock::time_point began = Clock::now();
            const Status st = producer.checkTopic(kProbeTimeoutMs);
            {
                std::lock_guard lock(m_errorMutex);
                m_error = st.ok() ? QString() : st.error().message;
            }
            m_up.store(st.ok());
            // Sleeps in short steps so the destructor does not wait out the pause.
            const Clock::time_point next = began + std::chrono::milliseconds(st.ok() ? kUpEveryMs : kDownEveryMs);
            while (!m_stop.load() && Clock::now() < next)
                std::this_thread::sleep_for(
                    std::min<Clock::duration>(next - Clock::now(), std::chrono::milliseconds(50)));
        }
    });
}

} // namespace coupon::gateway
