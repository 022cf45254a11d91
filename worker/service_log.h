#pragma once

#include <QString>

namespace coupon {

// How the services log: one line per event, key=value (logfmt), e.g.
//   ts=2026-11-30T08:10:00.123Z level=warning cat=coupon.reconciler msg="campaign c: ..."
// on stderr; under systemd (JOURNAL_STREAM names our stderr) straight to the
// journal instead, with PRIORITY=, SYSLOG_IDENTIFIER= and COUPON_CATEGORY=
// fields, so `journalctl -p warning` and `COUPON_CATEGORY=coupon.reconciler`
// select. The messages never carry a secret: settings print masked, and the
// clients name a user, never its password (tst_service_log checks a run).
void installServiceLog();

// log.level: debug, info, warning or error; what is below it is dropped
// before it is formatted. The caller validated the value (settings).
void setServiceLogLevel(const QString &level);

// One logfmt line for an event (what installServiceLog writes), exposed for tests.
QByteArray formatLogLine(const QString &level, const QString &category, const QString &message);

} // namespace coupon
