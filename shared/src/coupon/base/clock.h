#pragma once

#include <QElapsedTimer>
#include <QtGlobal>

#include <atomic>

namespace coupon {

// Milliseconds on a monotonic clock, for whatever decides by elapsed time
// (the sold-out memo's validity, deadlines): injected, so a unit test moves
// time by hand instead of waiting for the wall clock.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual qint64 nowMs() const = 0;
};

// The process' monotonic clock, from when it was made.
class SteadyClock final : public Clock
{
public:
    SteadyClock() { m_timer.start(); }
    qint64 nowMs() const override { return m_timer.elapsed(); }

    // One instance for everything that does not bring its own.
    static const SteadyClock &instance()
    {
        static const SteadyClock clock;
        return clock;
    }

private:
    QElapsedTimer m_timer;
};

// A clock that moves only when told: for tests.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 startMs = 0)
        : m_nowMs(startMs)
    { }
    qint64 nowMs() const override { return m_nowMs.load(std::memory_order_relaxed); }
    void advance(qint64 ms) { m_nowMs.fetch_add(ms, std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_nowMs;
};

} // namespace coupon
