#pragma once

#include <algorithm>

namespace coupon {

// How long to wait before trying a dependency again: the first wait is
// `initialMs`, each next one doubles, never past `maxMs`; a success resets
// it. One helper so every reconnect and retry loop backs off alike (Redis'
// async client, the worker's MySQL open and batch retries).
class Backoff
{
public:
    struct Options
    {
        int initialMs = 100;
        int maxMs = 5000;
    };
    Backoff() = default;
    explicit Backoff(Options options)
        : m_options(options)
        , m_nextMs(options.initialMs)
    { }

    // The wait to use now; the one after it is twice as long (up to maxMs).
    int nextMs()
    {
        const int now = m_nextMs;
        m_nextMs = std::min(m_nextMs * 2, m_options.maxMs);
        return now;
    }
    // The wait nextMs() would give, without moving on.
    int peekMs() const { return m_nextMs; }
    void reset() { m_nextMs = m_options.initialMs; }

private:
    Options m_options;
    int m_nextMs = m_options.initialMs;
};

} // namespace coupon
