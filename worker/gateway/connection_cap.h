#pragma once

// How many client connections the gateway takes at once: gateway.max.connections,
// or (0) what the descriptor limit (ulimit -n) leaves after the gateway's own.

#include <QString>

namespace coupon::gateway {

// Descriptors kept for the gateway itself: Redis, Kafka (sockets and wake-up
// pipes per broker thread), MySQL, the listeners, the admin listener's
// connections, Qt's and glib's event descriptors, the log.
inline constexpr int kReservedDescriptors = 128;

struct ConnectionCap
{
    int cap = 0;
    QString how;     // for the log: where the number came from
    QString warning; // non-empty: the configured cap is more than the descriptors allow
};

// Raises the soft RLIMIT_NOFILE to the hard limit first (systemd's
// LimitNOFILE= sets both; a shell's soft 1024 is a leftover of select()).
// `reserve` adds to kReservedDescriptors (the admin listener's cap).
ConnectionCap connectionCap(int configured, int reserve);

} // namespace coupon::gateway
