#include "coupon/kafka/group.h"

#include "coupon/kafka/kafka.h"
#include "coupon/kafka/kafka_errors.h"

#include <QtEndian>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

// A cursor over Kafka's big-endian protocol encoding.
class Reader
{
public:
    explicit Reader(QByteArrayView bytes)
        : m_bytes(bytes)
    { }
    bool ok() const { return m_ok; }

    template <typename T>
    T integer()
    {
        if (!need(sizeof(T)))
            return 0;
        const T value = qFromBigEndian<T>(m_bytes.data() + m_pos);
        m_pos += qsizetype(sizeof(T));
        return value;
    }

    QByteArrayView string()
    {
        const qint16 size = integer<qint16>();
        if (size < 0 || !need(size))
            return {};
        const QByteArrayView text = m_bytes.sliced(m_pos, size);
        m_pos += size;
        return text;
    }

private:
    bool need(qsizetype size)
    {
        if (m_ok && m_pos + size <= m_bytes.size())
            return true;
        m_ok = false;
        return false;
    }

    QByteArrayView m_bytes;
    qsizetype m_pos = 0;
    bool m_ok = true;
};

struct GroupListDeleter
{
    void operator()(const rd_kafka_group_list *list) const { rd_kafka_group_list_destroy(list); }
};

} // namespace

QList<int32_t> decodeMemberAssignment(QByteArrayView assignment, QByteArrayView topic)
{
    // ConsumerProtocolAssignment: version, [topic, [partition]], user data.
    Reader in(assignment);
    in.integer<qint16>();
    const qint32 topics = in.integer<qint32>();
    QList<int32_t> partitions;
    for (qint32 t = 0; in.ok() && t < topics; ++t) {
        const QByteArrayView name = in.string();
        const qint32 count = in.integer<qint32>();
        for (qint32 p = 0; in.ok() && p < count; ++p) {
            const qint32 partition = in.integer<qint32>();
            if (in.ok() && name == topic)
                partitions << partition;
        }
    }
    if (!in.ok())
        return {};
    std::sort(partitions.begin(), partitions.end());
    return partitions;
}

Result<std::unique_ptr<GroupProbe>> GroupProbe::create(const Settings &settings)
{
    Result<KafkaHandle> client = newKafkaClient(RD_KAFKA_CONSUMER, settings,
                                                {{u"client.id"_s, u"coupon-group-probe"_s}}, {});
    if (!client)
        return client.error();
    std::unique_ptr<GroupProbe> probe(new GroupProbe);
    probe->m_client = std::move(client).value();
    probe->m_topic = settings.kafka.topic.toUtf8();
    return probe;
}

Result<GroupDescription> GroupProbe::describe(const QString &group, int timeoutMs)
{
    const QByteArray name = group.toUtf8();
    const rd_kafka_group_list *raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_list_groups(m_client.get(), name.constData(), &raw, timeoutMs);
    if (err)
        return errors::fromKafka(err, u"group "_s + group);
    const std::unique_ptr<const rd_kafka_group_list, GroupListDeleter> list(raw);
    GroupDescription description;
    description.state = u"Dead"_s;
    for (int g = 0; g < list->group_cnt; ++g) {
        const rd_kafka_group_info &info = list->groups[g];
        if (name != info.group)
            continue;
        if (info.err)
            return errors::fromKafka(info.err, u"group "_s + group);
        description.state = QString::fromUtf8(info.state);
        for (int m = 0; m < info.member_cnt; ++m) {
            const rd_kafka_group_member_info &member = info.members[m];
            GroupMember out;
            out.memberId = QString::fromUtf8(member.member_id);
            out.clientId = QString::fromUtf8(member.client_id);
            out.host = QString::fromUtf8(member.client_host);
            out.partitions = decodeMemberAssignment(
                QByteArrayView(static_cast<const char *>(member.member_assignment), member.member_assignment_size),
                m_topic);
            description.members << out;
        }
    }
    return description;
}

} // namespace coupon
