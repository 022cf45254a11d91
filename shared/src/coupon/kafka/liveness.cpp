#include "coupon/kafka/liveness.h"

#include "coupon/base/threads.h"

#include <algorithm>
#include <chrono>

namespace coupon {

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

void KafkaLiveness::record(const Status &st)
{
    {
        std::lock_guard lock(m_errorMutex);
        m_error = st.ok() ? QString() : st.error().message;
    }
    m_up.store(st.ok());
}

void KafkaLiveness::start(Probe probe, int firstWaitMs)
{
    record(probe(firstWaitMs));
    m_probe = std::thread([this, probe = std::move(probe)] {
        setCurrentThreadName("kafka-liveness");
        using Clock = std::chrono::steady_clock;
        Clock::time_point began = Clock::now();
        while (!m_stop.load()) {
            // Sleeps in short steps so the destructor does not wait out the pause.
            const Clock::time_point next = began + std::chrono::milliseconds(m_up.load() ? kUpEveryMs : kDownEveryMs);
            while (!m_stop.load() && Clock::now() < next)
                std::this_thread::sleep_for(
                    std::min<Clock::duration>(next - Clock::now(), std::chrono::milliseconds(50)));
            if (m_stop.load())
                break;
            began = Clock::now();
            record(probe(kProbeTimeoutMs));
        }
    });
}

} // namespace coupon
