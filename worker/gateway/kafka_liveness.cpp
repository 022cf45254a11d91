#include "gateway/kafka_liveness.h"

#include "coupon/base/threads.h"
#include "coupon/kafka/kafka.h"

#include <chrono>
#include <memory>

using namespace Qt::StringLiterals;

namespace coupon::gateway {

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

Status KafkaLiveness::start(const Settings &settings)
{
    Result<std::unique_ptr<LagProbe>> probe = LagProbe::create(settings, u"coupon-gateway-probe"_s);
    if (!probe)
        return probe.error();
    m_up.store(true);
    m_probe = std::thread([this, p = std::shared_ptr<LagProbe>(std::move(probe).value())] {
        setCurrentThreadName("kafka-liveness");
        while (!m_stop.load()) {
            Result<QList<PartitionLag>> r = p->query(1500);
            m_up.store(r.ok());
            {
                std::lock_guard lock(m_errorMutex);
                m_error = r.ok() ? QString() : r.error().message;
            }
            // Sleeps in short steps so the destructor does not wait out 1 s.
            for (int i = 0; i < 20 && !m_stop.load(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    return Ok{};
}

} // namespace coupon::gateway
