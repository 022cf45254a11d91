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

// The fields of a campaign's `reconcile` hash: step is one of the
// kReconcileStep* below, since when (Redis ms) the reconciler has seen the
// campaign not current, behind how many messages the group still has to
// commit before the barrier (the drain step only).
inline constexpr char kReconcileStepField[] = "step";
inline constexpr char kReconcileSinceField[] = "since";
inline constexpr char kReconcileBehindField[] = "behind";
inline constexpr char kReconcileStepDelivery[] = "delivery"; // waiting out the producers' delivery timeout
inline constexpr char kReconcileStepBarrier[] = "barrier";   // writing a barrier on every partition
inline constexpr char kReconcileStepDrain[] = "drain";       // waiting for the group to commit past it
inline constexpr char kReconcileStepReload[] = "reload";     // reloading holders and count from MySQL

// The keys of one campaign, hash-tagged so they share a Redis Cluster slot.
struct CampaignKeys
{
    explicit CampaignKeys(const QString &campaign);
    QByteArray meta;        // hash: limit, state, starts, ends (ms epoch, 0 = none), epoch, instance
    QByteArray users;       // set of user ids holding a reservation or coupon
    QByteArray count;       // string: reservations made (the ticket counter)
    QByteArray pending;     // sorted set: user id -> reservation time (ms)
    QByteArray maintenance; // string, with a lease: an operator's reset or rebuild runs (the reconciler waits)
    // hash, with a lease: how far the reconciler got rebuilding the campaign
    // (kReconcile* fields), for the console; gone once it is rebuilt.
    QByteArray reconcile;

    // meta, users, count, pending: the KEYS of the apply and release scripts.
    RedisArgs all() const { return {meta, users, count, pending}; }
};

} // namespace coupon
