#include "coupon/mysql/store.h"

#include "coupon/base/validation.h"
#include "coupon/mysql/sql_errors.h"

#include <QHash>
#include <QLoggingCategory>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcStore, "coupon.store")

namespace coupon {

namespace {

struct Migration
{
    int version;
    const char *description;
    QList<const char *> statements;
};

// Versioned and append-only: a released migration is never edited.
const QList<Migration> &migrations()
{
    static const QList<Migration> list = {
        {1,
         "campaign, coupon, failed_event; the tutorial's default campaign",
         {R"sql(CREATE TABLE IF NOT EXISTS campaign (
  id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  coupon_limit BIGINT NOT NULL,
  issued BIGINT NOT NULL DEFAULT 0,
  state ENUM('open','closed') NOT NULL DEFAULT 'closed',
  starts_at DATETIME(3) NULL,
  ends_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT campaign_limit_ck CHECK (coupon_limit >= 0 AND issued >= 0 AND issued <= coupon_limit)
) ENGINE=InnoDB)sql",
          R"sql(CREATE TABLE IF NOT EXISTS coupon (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  campaign_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id BIGINT NOT NULL,
  ticket BIGINT NULL,
  issued_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  UNIQUE KEY coupon_campaign_user (campaign_id, user_id),
  CONSTRAINT coupon_campaign_fk FOREIGN KEY (campaign_id) REFERENCES campaign (id)
) ENGINE=InnoDB)sql",
          R"sql(CREATE TABLE IF NOT EXISTS failed_event (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  topic VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  msg_key VARBINARY(4096) NULL,
  msg_value MEDIUMBLOB NULL,
  reason VARCHAR(64) NOT NULL,
  campaign_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  resolved_at DATETIME(3) NULL,
  UNIQUE KEY failed_event_position (topic, kafka_partition, kafka_offset),
  KEY failed_event_campaign (campaign_id)
) ENGINE=InnoDB)sql",
          R"sql(INSERT INTO campaign (id, name, coupon_limit, state)
  VALUES ('default', 'The tutorial''s drop: 100 coupons', 100, 'open')
  ON DUPLICATE KEY UPDATE id = id)sql"}},
    };
    return list;
}

QString sqlString(const QString &text)
{
    QString escaped = text;
    escaped.replace(u'\\', u"\\\\"_s).replace(u'\'', u"''"_s);
    return u'\'' + escaped + u'\'';
}

QString sqlBytes(const QByteArray &bytes)
{
    return u"X'"_s + QString::fromLatin1(bytes.toHex()) + u'\'';
}

QString sqlTime(const QDateTime &time)
{
    if (!time.isValid())
        return u"NULL"_s;
    return u'\'' + time.toUTC().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s) + u'\'';
}

QDateTime utc(const QVariant &value)
{
    if (value.isNull())
        return {};
    QDateTime time = value.toDateTime();
    time.setTimeSpec(Qt::UTC); // the session runs with time_zone '+00:00'
    return time;
}

Campaign campaignFrom(const QSqlQuery &q)
{
    Campaign c;
    c.id = q.value(0).toString();
    c.name = q.value(1).toString();
    c.limit = q.value(2).toLongLong();
    c.issued = q.value(3).toLongLong();
    c.state = q.value(4).toString();
    c.startsAt = utc(q.value(5));
    c.endsAt = utc(q.value(6));
    c.createdAt = utc(q.value(7));
    return c;
}

constexpr const char *kCampaignColumns = "id, name, coupon_limit, issued, state, starts_at, ends_at, created_at";

} // namespace

CouponStore::CouponStore(MysqlSettings settings, QString connectionName)
    : m_settings(std::move(settings))
    , m_connectionName(std::move(connectionName))
{ }

CouponStore::~CouponStore()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isValid())
            db.close();
    }
    if (QSqlDatabase::contains(m_connectionName))
        QSqlDatabase::removeDatabase(m_connectionName);
}

QSqlDatabase CouponStore::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

Status CouponStore::open()
{
    if (!QSqlDatabase::isDriverAvailable(u"QMYSQL"_s))
        return Error{u"mysql.driver"_s, u"Qt's QMYSQL driver is not installed (Debian: libqt6sql6-mysql)"_s};
    QSqlDatabase db = QSqlDatabase::contains(m_connectionName)
        ? QSqlDatabase::database(m_connectionName, false)
        : QSqlDatabase::addDatabase(u"QMYSQL"_s, m_connectionName);
    db.setHostName(m_settings.host);
    db.setPort(m_settings.port);
    db.setDatabaseName(m_settings.database);
    db.setUserName(m_settings.user);
    db.setPassword(m_settings.password);
    QString options = u"MYSQL_OPT_CONNECT_TIMEOUT=5;MYSQL_OPT_READ_TIMEOUT=30;MYSQL_OPT_WRITE_TIMEOUT=30"_s;
    if (!m_settings.connectOptions.isEmpty())
        options += u';' + m_settings.connectOptions;
    db.setConnectOptions(options);
    const QString where
        = u"MySQL %1@%2:%3/%4"_s.arg(m_settings.user, m_settings.host).arg(m_settings.port).arg(m_settings.database);
    if (!db.open())
        return errors::fromSql(db.lastError(), where);
    QSqlQuery q(db);
    for (const QString &statement :
         {u"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
          "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'"_s,
          u"SET SESSION time_zone = '+00:00'"_s, u"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"_s}) {
        if (!q.exec(statement))
            return errors::fromSql(q.lastError(), where);
    }
    return Ok{};
}

Status CouponStore::reopen()
{
    {
        QSqlDatabase db = database();
        if (db.isValid())
            db.close();
    }
    return open();
}

int CouponStore::latestSchemaVersion()
{
    return migrations().last().version;
}

Result<int> CouponStore::schemaVersion()
{
    QSqlQuery q(database());
    if (!q.exec(u"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                "AND table_name = 'schema_migration'"_s)
        || !q.next())
        return errors::fromSql(q.lastError(), u"schema version"_s);
    if (q.value(0).toInt() == 0)
        return 0;
    if (!q.exec(u"SELECT COALESCE(MAX(version), 0) FROM schema_migration"_s) || !q.next())
        return errors::fromSql(q.lastError(), u"schema version"_s);
    return q.value(0).toInt();
}

Status CouponStore::migrate()
{
    Result<int> version = schemaVersion();
    if (!version)
        return version.error();
    if (*version >= latestSchemaVersion())
        return Ok{};

    QSqlDatabase db = database();
    QSqlQuery q(db);
    if (!q.exec(u"SELECT GET_LOCK('coupon.migrate', 60)"_s) || !q.next() || q.value(0).toInt() != 1)
        return Error{u"mysql.schema"_s, u"could not take the migration lock within 60 s"_s};
    auto unlock = qScopeGuard([&db] { QSqlQuery(db).exec(u"SELECT RELEASE_LOCK('coupon.migrate')"_s); });

    auto schemaError = [&](const QSqlQuery &failed, int at) -> Error {
        Error e = errors::fromSql(failed.lastError(), u"migration %1"_s.arg(at));
        if (failed.lastError().nativeErrorCode() == u"1142"_s || failed.lastError().nativeErrorCode() == u"1044"_s)
            e = {u"mysql.schema"_s,
                 u"the schema is at version %1 and this build needs %2, but MySQL user %3 may not change it; "
                 "run `couponctl migrate` with the admin account"_s.arg(*version)
                     .arg(latestSchemaVersion())
                     .arg(m_settings.user)};
        return e;
    };

    if (!q.exec(u"CREATE TABLE IF NOT EXISTS schema_migration ("
                "version INT NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, "
                "applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB"_s))
        return schemaError(q, 0);
    version = schemaVersion(); // another process may have migrated while we waited
    if (!version)
        return version.error();
    for (const Migration &m : migrations()) {
        if (m.version <= *version)
            continue;
        for (const char *statement : m.statements) {
            if (!q.exec(QString::fromUtf8(statement)))
                return schemaError(q, m.version);
        }
        if (!q.exec(u"INSERT INTO schema_migration (version, description) VALUES (%1, %2)"_s.arg(m.version).arg(
                sqlString(QString::fromUtf8(m.description)))))
            return schemaError(q, m.version);
        qCInfo(lcStore, "schema migrated to version %d: %s", m.version, m.description);
    }
    return Ok{};
}

Result<BatchOutcome> CouponStore::writeBatch(const QString &topic, const std::vector<IncomingRecord> &records)
{
    QSqlDatabase db = database();
    if (!db.transaction())
        return errors::fromSql(db.lastError(), u"begin batch"_s);
    Result<BatchOutcome> outcome = writeBatchOnce(topic, records);
    if (!outcome) {
        db.rollback();
        return outcome.error();
    }
    if (!db.commit()) {
        const Error e = errors::fromSql(db.lastError(), u"commit batch"_s);
        db.rollback();
        return e;
    }
    return outcome;
}

Result<BatchOutcome> CouponStore::writeBatchOnce(const QString &topic, const std::vector<IncomingRecord> &records)
{
    QSqlQuery q(database());
    q.setForwardOnly(true);
    BatchOutcome outcome;

    struct Poison
    {
        const IncomingRecord *record;
        QString reason;
        QString campaign;
    };
    std::vector<Poison> poison;

    // Valid records by campaign, in consumption order.
    QHash<QString, std::vector<const IncomingRecord *>> byCampaign;
    QStringList campaignOrder;
    for (const IncomingRecord &r : records) {
        if (!r.message) {
            poison.push_back({&r, r.poisonReason, r.poisonCampaign});
            continue;
        }
        if (!byCampaign.contains(r.message->campaign))
            campaignOrder << r.message->campaign;
        byCampaign[r.message->campaign].push_back(&r);
    }
    std::sort(campaignOrder.begin(), campaignOrder.end()); // a fixed lock order between workers

    for (const QString &campaign : std::as_const(campaignOrder)) {
        const std::vector<const IncomingRecord *> &list = byCampaign[campaign];
        if (!isValidCampaignId(campaign)) { // the codec checked; this guards the SQL below
            for (const IncomingRecord *r : list)
                poison.push_back({r, u"bad_campaign"_s, QString()});
            continue;
        }
        // The row lock serialises every writer of this campaign until commit.
        if (!q.exec(u"SELECT coupon_limit, issued FROM campaign WHERE id = '%1' FOR UPDATE"_s.arg(campaign)))
            return errors::fromSql(q.lastError(), u"lock campaign "_s + campaign);
        if (!q.next()) {
            for (const IncomingRecord *r : list)
                poison.push_back({r, u"unknown_campaign"_s, campaign});
            continue;
        }
        const qint64 limit = q.value(0).toLongLong();
        const qint64 issued = q.value(1).toLongLong();

        // First occurrence of each user in this batch.
        std::vector<const IncomingRecord *> firsts;
        QSet<qint64> seen;
        for (const IncomingRecord *r : list) {
            if (seen.contains(r->message->userId)) {
                ++outcome.duplicates;
                continue;
            }
            seen.insert(r->message->userId);
            firsts.push_back(r);
        }
        const qint64 room = std::max<qint64>(0, limit - issued);
        if (qint64(firsts.size()) > room) {
            // Near the limit (or Redis let too many through): learn which are
            // replays, so the room goes to new users in consumption order and
            // the rest is recorded as over_limit, never inserted.
            QString userList;
            for (const IncomingRecord *r : firsts)
                userList += (userList.isEmpty() ? QString() : u","_s) + QString::number(r->message->userId);
            QSet<qint64> holders;
            if (!q.exec(u"SELECT user_id FROM coupon WHERE campaign_id = '%1' AND user_id IN (%2)"_s.arg(campaign,
                                                                                                         userList)))
                return errors::fromSql(q.lastError(), u"find holders in "_s + campaign);
            while (q.next())
                holders.insert(q.value(0).toLongLong());
            std::vector<const IncomingRecord *> fresh;
            qint64 taken = 0;
            for (const IncomingRecord *r : firsts) {
                if (holders.contains(r->message->userId)) {
                    ++outcome.duplicates;
                } else if (taken < room) {
                    fresh.push_back(r);
                    ++taken;
                } else {
                    poison.push_back({r, u"over_limit"_s, campaign});
                }
            }
            firsts = std::move(fresh);
        }
        if (firsts.empty())
            continue;

        QString values;
        values.reserve(qsizetype(firsts.size()) * 48);
        for (const IncomingRecord *r : firsts) {
            if (!values.isEmpty())
                values += u',';
            values += u"('"_s + campaign + u"',"_s + QString::number(r->message->userId) + u','
                + (r->message->ticket > 0 ? QString::number(r->message->ticket) : u"NULL"_s) + u','
                + QString::number(r->partition) + u',' + QString::number(r->offset) + u')';
        }
        // Replays are absorbed by UNIQUE(campaign_id, user_id): an unchanged
        // row counts 0 affected, a new one 1, so `inserted` is exact. Unlike
        // INSERT IGNORE this turns no other error into a warning.
        if (!q.exec(u"INSERT INTO coupon (campaign_id, user_id, ticket, kafka_partition, kafka_offset) VALUES "_s
                    + values + u" ON DUPLICATE KEY UPDATE id = id"_s))
            return errors::fromSql(q.lastError(), u"insert coupons"_s);
        const qint64 inserted = q.numRowsAffected();
        if (inserted < 0 || inserted > qint64(firsts.size()))
            return Error{u"mysql.query"_s,
                         u"insert coupons: %1 rows affected for %2"_s.arg(inserted).arg(firsts.size())};
        outcome.duplicates += int(qint64(firsts.size()) - inserted);
        outcome.inserted += int(inserted);
        if (inserted == 0)
            continue;
        // The last guard: never past coupon_limit, whatever Redis said.
        if (!q.exec(u"UPDATE campaign SET issued = issued + %1 WHERE id = '%2' AND issued + %1 <= coupon_limit"_s
                        .arg(inserted)
                        .arg(campaign)))
            return errors::fromSql(q.lastError(), u"advance issued"_s);
        if (q.numRowsAffected() != 1)
            return Error{u"mysql.query"_s,
                         u"advance issued of %1 by %2: the limit guard refused"_s.arg(campaign).arg(inserted)};
    }

    if (!poison.empty()) {
        QString values;
        for (const Poison &p : poison) {
            if (!values.isEmpty())
                values += u',';
            values += u"(%1,%2,%3,%4,%5,%6,%7)"_s.arg(sqlString(topic))
                          .arg(p.record->partition)
                          .arg(p.record->offset)
                          .arg(sqlBytes(p.record->key), sqlBytes(p.record->value), sqlString(p.reason),
                               isValidCampaignId(p.campaign) ? sqlString(p.campaign) : u"NULL"_s);
        }
        // A replayed poison message hits the position key and changes nothing.
        if (!q.exec(u"INSERT INTO failed_event (topic, kafka_partition, kafka_offset, msg_key, msg_value, reason, "
                    "campaign_id) VALUES "_s
                    + values + u" ON DUPLICATE KEY UPDATE id = id"_s))
            return errors::fromSql(q.lastError(), u"record poison"_s);
        outcome.poison += int(poison.size());
    }
    return outcome;
}

Status CouponStore::createCampaign(const Campaign &c)
{
    if (!isValidCampaignId(c.id))
        return Error{u"campaign.invalid"_s, u"campaign id \"%1\" must match [a-z0-9][a-z0-9_-]{0,63}"_s.arg(c.id)};
    QSqlQuery q(database());
    q.prepare(u"INSERT INTO campaign (id, name, coupon_limit, state, starts_at, ends_at) VALUES (?, ?, ?, ?, "_s
              + sqlTime(c.startsAt) + u", "_s + sqlTime(c.endsAt) + u")"_s);
    q.addBindValue(c.id);
    q.addBindValue(c.name);
    q.addBindValue(c.limit);
    q.addBindValue(c.state.isEmpty() ? u"closed"_s : c.state);
    if (!q.exec()) {
        if (q.lastError().nativeErrorCode() == u"1062"_s)
            return Error{u"campaign.exists"_s, u"campaign %1 exists already"_s.arg(c.id)};
        return errors::fromSql(q.lastError(), u"create campaign "_s + c.id);
    }
    return Ok{};
}

Result<std::optional<Campaign>> CouponStore::campaign(const QString &id)
{
    QSqlQuery q(database());
    q.prepare(u"SELECT %1 FROM campaign WHERE id = ?"_s.arg(QLatin1String(kCampaignColumns)));
    q.addBindValue(id);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"campaign "_s + id);
    if (!q.next())
        return std::optional<Campaign>();
    return std::optional<Campaign>(campaignFrom(q));
}

Result<QList<Campaign>> CouponStore::campaigns()
{
    QSqlQuery q(database());
    if (!q.exec(u"SELECT %1 FROM campaign ORDER BY id"_s.arg(QLatin1String(kCampaignColumns))))
        return errors::fromSql(q.lastError(), u"campaigns"_s);
    QList<Campaign> list;
    while (q.next())
        list << campaignFrom(q);
    return list;
}

Status CouponStore::setState(const QString &id, const QString &state)
{
    QSqlQuery q(database());
    q.prepare(u"UPDATE campaign SET state = ? WHERE id = ?"_s);
    q.addBindValue(state);
    q.addBindValue(id);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"set state of "_s + id);
    return Ok{};
}

Status CouponStore::setLimit(const QString &id, qint64 limit)
{
    QSqlQuery q(database());
    q.prepare(u"UPDATE campaign SET coupon_limit = ? WHERE id = ?"_s);
    q.addBindValue(limit);
    q.addBindValue(id);
    if (!q.exec()) {
        if (q.lastError().nativeErrorCode() == u"4025"_s)
            return Error{u"campaign.limit"_s, u"limit %1 is below the coupons already issued"_s.arg(limit)};
        return errors::fromSql(q.lastError(), u"set limit of "_s + id);
    }
    return Ok{};
}

Status CouponStore::resetCampaign(const QString &id)
{
    QSqlDatabase db = database();
    if (!db.transaction())
        return errors::fromSql(db.lastError(), u"reset "_s + id);
    QSqlQuery q(db);
    for (const QString &sql :
         {u"SELECT id FROM campaign WHERE id = ? FOR UPDATE"_s, u"DELETE FROM coupon WHERE campaign_id = ?"_s,
          u"DELETE FROM failed_event WHERE campaign_id = ?"_s, u"UPDATE campaign SET issued = 0 WHERE id = ?"_s}) {
        q.prepare(sql);
        q.addBindValue(id);
        if (!q.exec()) {
            const Error e = errors::fromSql(q.lastError(), u"reset "_s + id);
            db.rollback();
            return e;
        }
    }
    if (!db.commit()) {
        const Error e = errors::fromSql(db.lastError(), u"reset "_s + id);
        db.rollback();
        return e;
    }
    return Ok{};
}

Result<qint64> CouponStore::couponCount(const QString &campaign)
{
    QSqlQuery q(database());
    q.prepare(u"SELECT COUNT(*) FROM coupon WHERE campaign_id = ?"_s);
    q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"count coupons"_s);
    return q.value(0).toLongLong();
}

Result<QList<CouponRow>> CouponStore::coupons(const QString &campaign, qint64 afterId, int limit,
                                              std::optional<qint64> userId)
{
    QSqlQuery q(database());
    q.setForwardOnly(true);
    q.prepare(u"SELECT id, campaign_id, user_id, ticket, issued_at, kafka_partition, kafka_offset FROM coupon "
              "WHERE campaign_id = ? AND id > ?"_s
              + (userId ? u" AND user_id = ?"_s : QString()) + u" ORDER BY id LIMIT ?"_s);
    q.addBindValue(campaign);
    q.addBindValue(afterId);
    if (userId)
        q.addBindValue(*userId);
    q.addBindValue(limit);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"coupons"_s);
    QList<CouponRow> rows;
    while (q.next()) {
        CouponRow r;
        r.id = q.value(0).toLongLong();
        r.campaign = q.value(1).toString();
        r.userId = q.value(2).toLongLong();
        r.ticket = q.value(3).toLongLong();
        r.issuedAt = utc(q.value(4));
        r.partition = q.value(5).toInt();
        r.offset = q.value(6).toLongLong();
        rows << r;
    }
    return rows;
}

Result<QList<qint64>> CouponStore::couponUsers(const QString &campaign)
{
    QSqlQuery q(database());
    q.setForwardOnly(true);
    q.prepare(u"SELECT user_id FROM coupon WHERE campaign_id = ? ORDER BY user_id"_s);
    q.addBindValue(campaign);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"coupon holders"_s);
    QList<qint64> users;
    while (q.next())
        users << q.value(0).toLongLong();
    return users;
}

Result<qint64> CouponStore::duplicateHolders(const QString &campaign)
{
    QSqlQuery q(database());
    q.prepare(u"SELECT COUNT(*) FROM (SELECT user_id FROM coupon WHERE campaign_id = ? GROUP BY user_id "
              "HAVING COUNT(*) > 1) d"_s);
    q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"duplicate holders"_s);
    return q.value(0).toLongLong();
}

Result<bool> CouponStore::hasCoupon(const QString &campaign, qint64 userId)
{
    QSqlQuery q(database());
    q.prepare(u"SELECT 1 FROM coupon WHERE campaign_id = ? AND user_id = ?"_s);
    q.addBindValue(campaign);
    q.addBindValue(userId);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"coupon of a user"_s);
    return q.next();
}

Result<QList<FailedEventRow>> CouponStore::failedEvents(qint64 afterId, int limit, const QString &campaign)
{
    QSqlQuery q(database());
    q.setForwardOnly(true);
    q.prepare(u"SELECT id, topic, kafka_partition, kafka_offset, msg_key, msg_value, reason, campaign_id, created_at "
              "FROM failed_event WHERE id > ?"_s
              + (campaign.isEmpty() ? QString() : u" AND campaign_id = ?"_s) + u" ORDER BY id LIMIT ?"_s);
    q.addBindValue(afterId);
    if (!campaign.isEmpty())
        q.addBindValue(campaign);
    q.addBindValue(limit);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"failed events"_s);
    QList<FailedEventRow> rows;
    while (q.next()) {
        FailedEventRow r;
        r.id = q.value(0).toLongLong();
        r.topic = q.value(1).toString();
        r.partition = q.value(2).toInt();
        r.offset = q.value(3).toLongLong();
        r.key = q.value(4).toByteArray();
        r.value = q.value(5).toByteArray();
        r.reason = q.value(6).toString();
        r.campaign = q.value(7).toString();
        r.createdAt = utc(q.value(8));
        rows << r;
    }
    return rows;
}

Result<qint64> CouponStore::failedEventCount(const QString &campaign)
{
    QSqlQuery q(database());
    q.prepare(u"SELECT COUNT(*) FROM failed_event"_s + (campaign.isEmpty() ? QString() : u" WHERE campaign_id = ?"_s));
    if (!campaign.isEmpty())
        q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"count failed events"_s);
    return q.value(0).toLongLong();
}

} // namespace coupon
