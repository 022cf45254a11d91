#include "coupon/mysql/migrations.h"

#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/sql_text.h"

#include <QList>
#include <QLoggingCategory>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcStore, "coupon.store")

namespace coupon::mysql {

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
        {2,
         "failed_event: who resolved it and how, the last retry's outcome",
         // IF NOT EXISTS: DDL commits by itself, so a run cut short between
         // these statements is finished by the next one.
         {R"sql(ALTER TABLE failed_event
  ADD COLUMN IF NOT EXISTS resolved_by VARCHAR(200) NULL,
  ADD COLUMN IF NOT EXISTS resolution VARCHAR(1000) NULL,
  ADD COLUMN IF NOT EXISTS retries INT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS last_retry_at DATETIME(3) NULL,
  ADD COLUMN IF NOT EXISTS last_retry_by VARCHAR(200) NULL,
  ADD COLUMN IF NOT EXISTS last_retry_outcome VARCHAR(1000) NULL)sql",
          R"sql(CREATE INDEX IF NOT EXISTS failed_event_unresolved ON failed_event (resolved_at, campaign_id))sql"}},
        {3,
         "coupon: (campaign_id, id) for the browser's paging and jumps",
         // A campaign's coupons in id order without a filesort (keyset pages,
         // OFFSET positions, COUNT below an id, the search for a time). No
         // (campaign_id, issued_at): it cost the worker's drain 12 %.
         {R"sql(CREATE INDEX IF NOT EXISTS coupon_campaign_id ON coupon (campaign_id, id))sql"}},
    };
    return list;
}

} // namespace

int latestSchemaVersion()
{
    return migrations().last().version;
}

Result<int> schemaVersion(const QSqlDatabase &db)
{
    QSqlQuery q(db);
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

Status migrate(QSqlDatabase db, const QString &user)
{
    Result<int> version = schemaVersion(db);
    if (!version)
        return version.error();
    if (*version >= latestSchemaVersion())
        return Ok{};

    QSqlQuery q(db);
    if (!q.exec(u"SELECT GET_LOCK('coupon.migrate', 60)"_s) || !q.next() || q.value(0).toInt() != 1)
        return Error(Errc::MysqlSchema, u"could not take the migration lock within 60 s"_s);
    auto unlock = qScopeGuard([&db] { QSqlQuery(db).exec(u"SELECT RELEASE_LOCK('coupon.migrate')"_s); });

    auto schemaError = [&](const QSqlQuery &failed, int at) -> Error {
        if (errors::isSchemaAccessDenied(failed.lastError()))
            return Error(Errc::MysqlSchema,
                         u"the schema is at version %1 and this build needs %2, but MySQL user %3 may not change it; "
                         "run `couponctl migrate` with the admin account"_s.arg(*version)
                             .arg(latestSchemaVersion())
                             .arg(user));
        return errors::fromSql(failed.lastError(), u"migration %1"_s.arg(at));
    };

    if (!q.exec(u"CREATE TABLE IF NOT EXISTS schema_migration ("
                "version INT NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, "
                "applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB"_s))
        return schemaError(q, 0);
    version = schemaVersion(db); // another process may have migrated while we waited
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

} // namespace coupon::mysql
