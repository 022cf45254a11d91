#include "lag_status.h"

using namespace Qt::StringLiterals;

namespace coupon::console {

QString toString(LagStatus status)
{
    switch (status) {
    case LagStatus::Unknown: return u"UNKNOWN"_s;
    case LagStatus::Ok: return u"OK"_s;
    case LagStatus::Warn: return u"WARN"_s;
    case LagStatus::Stall: return u"STALL"_s;
    case LagStatus::Stop: return u"STOP"_s;
    }
    return u"UNKNOWN"_s;
}

LagStatus evaluateLag(const QList<LagSample> &samples)
{
    QList<LagSample> window;
    for (auto it = samples.crbegin(); it != samples.crend() && window.size() < kLagWindow; ++it) {
        if (it->ok)
            window.prepend(*it);
    }
    if (window.isEmpty() || !samples.constLast().ok)
        return LagStatus::Unknown;
    const LagSample &last = window.constLast();
    const LagSample &first = window.constFirst();
    // Nobody left to commit: no window needed to call it.
    if (last.lag > 0 && last.members == 0)
        return LagStatus::Stop;
    for (const LagSample &s : window) {
        if (s.lag == 0)
            return LagStatus::Ok;
    }
    if (window.size() < kLagWindow)
        return LagStatus::Ok;
    if (last.committed == first.committed)
        return LagStatus::Stall;
    bool growing = last.lag > first.lag;
    for (qsizetype i = 1; growing && i < window.size(); ++i)
        growing = window[i].lag >= window[i - 1].lag;
    return growing ? LagStatus::Warn : LagStatus::Ok;
}

} // namespace coupon::console
