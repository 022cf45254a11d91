#pragma once

#include "coupon/base/result.h"
#include "coupon/mysql/store.h"

#include <QSqlDatabase>
#include <QSqlQuery>

#include <vector>

namespace coupon::mysql {

// Writes one of the worker's batches in one transaction: per campaign (in
// id order, a fixed lock order between workers) it locks the campaign row,
// inserts the new coupons in one multi-row statement and advances
// campaign.issued within coupon_limit; poison goes to failed_event in one
// more statement. Replays are absorbed by UNIQUE(campaign_id, user_id) and
// UNIQUE(topic, partition, offset). One writer per batch.
class BatchWriter
{
public:
    BatchWriter(const QSqlDatabase &db, const QString &topic);

    Result<BatchOutcome> write(const std::vector<IncomingRecord> &records);

private:
    using Records = std::vector<const IncomingRecord *>;
    struct Poison
    {
        const IncomingRecord *record;
        QString reason;
        QString campaign;
    };

    Status writeRecords(const std::vector<IncomingRecord> &records);
    Status writeCampaign(const QString &campaign, const Records &records);
    Records firstPerUser(const Records &records);
    Result<Records> withinLimit(const QString &campaign, const Records &firsts, qint64 room);
    Status insertCoupons(const QString &campaign, const Records &fresh);
    Status recordPoison();

    QSqlDatabase m_db;
    QSqlQuery m_q;
    QString m_topic;
    BatchOutcome m_outcome;
    std::vector<Poison> m_poison;
};

} // namespace coupon::mysql
