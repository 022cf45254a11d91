#include "coupon/mysql/campaign_writes.h"

#include "coupon/base/validation.h"
#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/sql_text.h"
#include "coupon/mysql/transaction.h"

#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

namespace coupon::mysql {

Status createCampaign(const QSqlDatabase &db, const Campaign &c)
{
    if (!isValidCampaignId(c.id))
        return Error(Errc::CampaignInvalid, u"campaign id \"%1\" must match %2"_s.arg(c.id, campaignIdPattern()));
    QSqlQuery q(db);
    q.prepare(u"INSERT INTO campaign (id, name, coupon_limit, state, starts_at, ends_at) VALUES (?, ?, ?, ?, "_s
              + sqlTime(c.startsAt) + u", "_s + sqlTime(c.endsAt) + u")"_s);
    q.addBindValue(c.id);
    q.addBindValue(c.name);
    q.addBindValue(c.limit);
    q.addBindValue(c.state.isEmpty() ? u"closed"_s : c.state);
    if (!q.exec()) {
        if (errors::isDuplicateKey(q.lastError()))
            return Error(Errc::CampaignExists, u"campaign %1 exists already"_s.arg(c.id));
        return errors::fromSql(q.lastError(), u"create campaign "_s + c.id);
    }
    return Ok{};
}

Status setState(const QSqlDatabase &db, const QString &id, const QString &state)
{
    QSqlQuery q(db);
    q.prepare(u"UPDATE campaign SET state = ? WHERE id = ?"_s);
    q.addBindValue(state);
    q.addBindValue(id);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"set state of "_s + id);
    return Ok{};
}

Status setLimit(const QSqlDatabase &db, const QString &id, qint64 limit)
{
    QSqlQuery q(db);
    q.prepare(u"UPDATE campaign SET coupon_limit = ? WHERE id = ?"_s);
    q.addBindValue(limit);
    q.addBindValue(id);
    if (!q.exec()) {
        // campaign_limit_ck: issued <= coupon_limit.
        if (errors::isCheckViolation(q.lastError()))
            return Error(Errc::CampaignLimit, u"limit %1 is below the coupons already issued"_s.arg(limit));
        return errors::fromSql(q.lastError(), u"set limit of "_s + id);
    }
    return Ok{};
}

Status resetCampaign(const QSqlDatabase &db, const QString &id)
{
    const QString what = u"reset "_s + id;
    Result<Transaction> transaction = Transaction::begin(db, what);
    if (!transaction)
        return transaction.error();
    QSqlQuery q(db);
    for (const QString &sql :
         {u"SELECT id FROM campaign WHERE id = ? FOR UPDATE"_s, u"DELETE FROM coupon WHERE campaign_id = ?"_s,
          u"DELETE FROM failed_event WHERE campaign_id = ?"_s, u"UPDATE campaign SET issued = 0 WHERE id = ?"_s}) {
        q.prepare(sql);
        q.addBindValue(id);
        if (!q.exec())
            return errors::fromSql(q.lastError(), what);
    }
    return transaction->commit(what);
}

} // namespace coupon::mysql
