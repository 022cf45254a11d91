#pragma once

#include "coupon/base/result.h"

#include <QSqlDatabase>
#include <QString>

namespace coupon::mysql {

// The operator's changes to failed_event rows (couponctl failed, the
// console). Each touches only an unresolved row: a resolved one answers
// Errc::FailedEventResolved, a missing one Errc::FailedEventUnknown.

// A retry's outcome: retries + 1, last_retry_at/by/outcome; with
// `resolved`, also resolved_at = now, resolved_by = by, resolution.
Status recordRetry(const QSqlDatabase &db, qint64 id, const QString &by, const QString &outcome, bool resolved,
                   const QString &resolution);
// resolved_at = now, resolved_by, resolution.
Status resolveFailedEvent(const QSqlDatabase &db, qint64 id, const QString &by, const QString &resolution);

} // namespace coupon::mysql
