#pragma once

#include "coupon/base/result.h"

#include <QSqlDatabase>

namespace coupon::mysql {

// The schema's versions: the table schema_migration records which of the
// append-only migrations a database has had, and migrate() applies the rest.
int latestSchemaVersion();
Result<int> schemaVersion(const QSqlDatabase &db); // 0: no schema yet

// Applies the missing migrations, serialised across processes by a named
// lock. `user` is the MySQL account, named in the error when it lacks the
// privileges to change the schema.
Status migrate(QSqlDatabase db, const QString &user);

} // namespace coupon::mysql
