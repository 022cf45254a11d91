#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka_handles.h"

#include <QByteArrayView>
#include <QList>
#include <QString>

#include <memory>

namespace coupon {

// One member of a consumer group, as kafka-consumer-groups --describe
// --members shows it.
struct GroupMember
{
    QString memberId;
    QString clientId;
    QString host;
    QList<int32_t> partitions; // of the topic asked about, sorted
};

struct GroupDescription
{
    QString state; // "Stable", "PreparingRebalance", "Empty", "Dead", ...
    QList<GroupMember> members;
};

// Reads a ConsumerProtocol assignment (what a group member was given) and
// returns its partitions of `topic`; empty for bytes that don't parse.
QList<int32_t> decodeMemberAssignment(QByteArrayView assignment, QByteArrayView topic);

// The members of a consumer group and who owns which partition. Holds one
// client connection; not thread-safe.
class GroupProbe
{
public:
    static Result<std::unique_ptr<GroupProbe>> create(const Settings &settings);
    // Errors: kafka.* (the group coordinator could not be asked).
    Result<GroupDescription> describe(const QString &group, int timeoutMs = 5000);

private:
    GroupProbe() = default;
    KafkaHandle m_client;
    QByteArray m_topic;
};

} // namespace coupon
