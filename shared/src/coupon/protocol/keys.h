#pragma once

// The Redis keys of a campaign and the shape of a command's arguments: what
// the apply protocol names, independent of the client that sends it.

#include <QByteArray>
#include <QString>

#include <vector>

namespace coupon {

using RedisArgs = std::vector<QByteArray>;

// Sorted set: every producer's delivery timeout (ms, the member) by when it
// last said so (ms epoch, the score). Reconciliation waits out the longest.
inline constexpr char kDeliveryTimeoutsKey[] = "coupon:delivery-timeouts";

// The keys of one campaign, hash-tagged so they share a Redis Cluster slot.
struct CampaignKeys
{
    explicit CampaignKeys(const QString &campaign);
    QByteArray meta;        // hash: limit, state, starts, ends (ms epoch, 0 = none), epoch, instance
    QByteArray users;       // set of user ids holding a reservation or coupon
    QByteArray count;       // string: reservations made (the ticket counter)
    QByteArray pending;     // sorted set: user id -> reservation time (ms)
    QByteArray maintenance; // string, with a lease: an operator's reset or rebuild runs (the reconciler waits)

    // meta, users, count, pending: the KEYS of the apply and release scripts.
    RedisArgs all() const { return {meta, users, count, pending}; }
};

} // namespace coupon
