#include "gateway/connection_cap.h"

#include <algorithm>

#include <sys/resource.h>

using namespace Qt::StringLiterals;

namespace coupon::gateway {

ConnectionCap connectionCap(int configured, int reserve)
{
    rlimit limit{};
    qint64 soft = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        if (limit.rlim_cur < limit.rlim_max) {
            rlimit raised = limit;
            raised.rlim_cur = limit.rlim_max;
            if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
                limit = raised;
        }
        soft = limit.rlim_cur == RLIM_INFINITY ? qint64(1) << 30 : qint64(limit.rlim_cur);
    }
    const qint64 kept = kReservedDescriptors + std::max(reserve, 0);
    const qint64 available = std::clamp<qint64>(soft - kept, 1, 10000000);
    ConnectionCap result;
    if (configured > 0) {
        result.cap = configured;
        result.how = u"gateway.max.connections"_s;
        if (configured > available)
            result.warning = u"gateway.max.connections = %1 is more than ulimit -n %2 leaves for clients (%3, after %4 "
                             "kept for the gateway's own descriptors): accepting will pause when descriptors run out"_s
                                 .arg(configured)
                                 .arg(soft)
                                 .arg(available)
                                 .arg(kept);
    } else {
        result.cap = int(available);
        result.how = u"ulimit -n %1 minus %2 kept for the gateway's own descriptors (gateway.max.connections = 0)"_s
                         .arg(soft)
                         .arg(kept);
    }
    return result;
}

} // namespace coupon::gateway
