#include "coupon/mysql/batch_writer.h"

#include "coupon/base/validation.h"
#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/sql_text.h"
#include "coupon/mysql/transaction.h"

#include <QHash>
#include <QSet>
#include <QSqlError>
#include <QVariant>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace coupon::mysql {

BatchWriter::BatchWriter(const QSqlDatabase &db, const QString &topic)
    : m_db(db)
    , m_q(db)
    , m_topic(topic)
{
    m_q.setForwardOnly(true);
}

Result<BatchOutcome> BatchWriter::write(const std::vector<IncomingRecord> &records)
{
    Result<Transaction> transaction = Transaction::begin(m_db, u"begin batch"_s);
    if (!transaction)
        return transaction.error();
    if (Status written = writeRecords(records); !written)
        return written.error();
    if (Status committed = transaction->commit(u"commit batch"_s); !committed)
        return committed.error();
    return m_outcome;
}

Status BatchWriter::writeRecords(const std::vector<IncomingRecord> &records)
{
    // Valid records by campaign, in consumption order.
    QHash<QString, Records> byCampaign;
    QStringList campaignOrder;
    for (const IncomingRecord &r : records) {
        if (r.barrier)
            continue; // committed past with the batch, written nowhere
        if (!r.message) {
            m_poison.push_back({&r, r.poisonReason, r.poisonCampaign});
            continue;
        }
        if (!byCampaign.contains(r.message->campaign))
            campaignOrder << r.message->campaign;
        byCampaign[r.message->campaign].push_back(&r);
    }
    std::sort(campaignOrder.begin(), campaignOrder.end()); // a fixed lock order between workers

    for (const QString &campaign : std::as_const(campaignOrder)) {
        if (Status written = writeCampaign(campaign, byCampaign[campaign]); !written)
            return written;
    }
    return recordPoison();
}

// One campaign's share of the batch: lock its row, keep the first record of
// each user (and, near the limit, only the new users that fit), insert them.
Status BatchWriter::writeCampaign(const QString &campaign, const Records &records)
{
    if (!isValidCampaignId(campaign)) { // the codec checked; this guards the SQL below
        for (const IncomingRecord *r : records)
            m_poison.push_back({r, u"bad_campaign"_s, QString()});
        return Ok{};
    }
    // The row lock serialises every writer of this campaign until commit.
    if (!m_q.exec(u"SELECT coupon_limit, issued FROM campaign WHERE id = '%1' FOR UPDATE"_s.arg(campaign)))
        return errors::fromSql(m_q.lastError(), u"lock campaign "_s + campaign);
    if (!m_q.next()) {
        for (const IncomingRecord *r : records)
            m_poison.push_back({r, u"unknown_campaign"_s, campaign});
        return Ok{};
    }
    const qint64 limit = m_q.value(0).toLongLong();
    const qint64 issued = m_q.value(1).toLongLong();

    Records firsts = firstPerUser(records);
    const qint64 room = std::max<qint64>(0, limit - issued);
    if (qint64(firsts.size()) > room) {
        Result<Records> fresh = withinLimit(campaign, firsts, room);
        if (!fresh)
            return fresh.error();
        firsts = std::move(fresh).value();
    }
    if (firsts.empty())
        return Ok{};
    return insertCoupons(campaign, firsts);
}

// The first occurrence of each user in this batch; the others are duplicates.
BatchWriter::Records BatchWriter::firstPerUser(const Records &records)
{
    Records firsts;
    QSet<qint64> seen;
    for (const IncomingRecord *r : records) {
        if (seen.contains(r->message->userId)) {
            ++m_outcome.duplicates;
            continue;
        }
        seen.insert(r->message->userId);
        firsts.push_back(r);
    }
    return firsts;
}

// Near the limit (or Redis let too many through): learn which are replays, so
// the room goes to new users in consumption order and the rest is recorded as
// over_limit, never inserted.
Result<BatchWriter::Records> BatchWriter::withinLimit(const QString &campaign, const Records &firsts, qint64 room)
{
    QString userList;
    for (const IncomingRecord *r : firsts)
        userList += (userList.isEmpty() ? QString() : u","_s) + QString::number(r->message->userId);
    QSet<qint64> holders;
    if (!m_q.exec(u"SELECT user_id FROM coupon WHERE campaign_id = '%1' AND user_id IN (%2)"_s.arg(campaign, userList)))
        return errors::fromSql(m_q.lastError(), u"find holders in "_s + campaign);
    while (m_q.next())
        holders.insert(m_q.value(0).toLongLong());
    Records fresh;
    qint64 taken = 0;
    for (const IncomingRecord *r : firsts) {
        if (holders.contains(r->message->userId)) {
            ++m_outcome.duplicates;
        } else if (taken < room) {
            fresh.push_back(r);
            ++taken;
        } else {
            m_poison.push_back({r, u"over_limit"_s, campaign});
        }
    }
    return fresh;
}

// One multi-row INSERT for the campaign's new coupons, then campaign.issued
// advanced by what was really inserted.
Status BatchWriter::insertCoupons(const QString &campaign, const Records &fresh)
{
    QString values;
    values.reserve(qsizetype(fresh.size()) * 48);
    for (const IncomingRecord *r : fresh) {
        if (!values.isEmpty())
            values += u',';
        values += u"('"_s + campaign + u"',"_s + QString::number(r->message->userId) + u','
            + (r->message->ticket > 0 ? QString::number(r->message->ticket) : u"NULL"_s) + u','
            + QString::number(r->partition) + u',' + QString::number(r->offset) + u')';
    }
    // Replays are absorbed by UNIQUE(campaign_id, user_id): an unchanged
    // row counts 0 affected, a new one 1, so `inserted` is exact. Unlike
    // INSERT IGNORE this turns no other error into a warning.
    if (!m_q.exec(u"INSERT INTO coupon (campaign_id, user_id, ticket, kafka_partition, kafka_offset) VALUES "_s + values
                  + u" ON DUPLICATE KEY UPDATE id = id"_s))
        return errors::fromSql(m_q.lastError(), u"insert coupons"_s);
    const qint64 inserted = m_q.numRowsAffected();
    if (inserted < 0 || inserted > qint64(fresh.size()))
        return Error(Errc::MysqlQuery, u"insert coupons: %1 rows affected for %2"_s.arg(inserted).arg(fresh.size()));
    m_outcome.duplicates += int(qint64(fresh.size()) - inserted);
    m_outcome.inserted += int(inserted);
    if (inserted == 0)
        return Ok{};
    // The last guard: never past coupon_limit, whatever Redis said.
    if (!m_q.exec(
            u"UPDATE campaign SET issued = issued + %1 WHERE id = '%2' AND issued + %1 <= coupon_limit"_s.arg(inserted)
                .arg(campaign)))
        return errors::fromSql(m_q.lastError(), u"advance issued"_s);
    if (m_q.numRowsAffected() != 1)
        return Error(Errc::MysqlQuery,
                     u"advance issued of %1 by %2: the limit guard refused"_s.arg(campaign).arg(inserted));
    return Ok{};
}

// Every poison record of the batch in one INSERT; a replayed poison message
// hits the position key and changes nothing.
Status BatchWriter::recordPoison()
{
    if (m_poison.empty())
        return Ok{};
    QString values;
    for (const Poison &p : m_poison) {
        if (!values.isEmpty())
            values += u',';
        values += u"(%1,%2,%3,%4,%5,%6,%7)"_s.arg(sqlString(m_topic))
                      .arg(p.record->partition)
                      .arg(p.record->offset)
                      .arg(sqlBytes(p.record->key), sqlBytes(p.record->value), sqlString(p.reason),
                           isValidCampaignId(p.campaign) ? sqlString(p.campaign) : u"NULL"_s);
    }
    if (!m_q.exec(u"INSERT INTO failed_event (topic, kafka_partition, kafka_offset, msg_key, msg_value, reason, "
                  "campaign_id) VALUES "_s
                  + values + u" ON DUPLICATE KEY UPDATE id = id"_s))
        return errors::fromSql(m_q.lastError(), u"record poison"_s);
    m_outcome.poison += int(m_poison.size());
    for (const Poison &p : m_poison)
        ++m_outcome.poisonReasons[p.reason];
    return Ok{};
}

} // namespace coupon::mysql
