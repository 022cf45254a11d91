#pragma once

// "How did it go?": everything the report on a drop says, gathered in one
// place for couponctl and the console alike. report/ sits above service/
// (the audit, the failed events) and loadgen/ (the run record).

#include "coupon/base/result.h"
#include "coupon/loadgen/run_record.h"
#include "coupon/service/campaigns.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace coupon {

// Who made the report, where, when and with what.
struct ReportStamp
{
    QString by;   // the operator's login name
    QString host; // this machine's host name
    QDateTime at; // UTC
    QString tool; // "couponctl" or "coupon-console"
    QString version;

    // Now, on this host, in this build's version; `by` empty: the login
    // name of the effective uid.
    static ReportStamp now(const QString &by, const QString &tool);
};

struct DropReport
{
    static constexpr int kMaxFailedEvents = 1000;

    QString campaign;
    // The audit when the report was made (after the drain): the campaign's
    // state, counters and the five invariants' verdicts.
    AuditReport audit;
    // This campaign's failed events, resolved or not, oldest first, at most
    // kMaxFailedEvents of failedEventTotal.
    QList<FailedEventRow> failedEvents;
    qint64 failedEventTotal = 0;
    std::optional<RunRecord> run; // the run the report is on, if any
    ReportStamp stamp;
};

// The five invariants of docs/DESIGN.md, in order (invariant n is at n-1).
const QStringList &invariantTexts();
// The audit's violation lines of invariant `n` (1..5): they start "n: ".
QStringList violationsOf(const AuditReport &audit, int n);

// Audits `campaign` (waiting for the drain, up to auditTimeoutMs) and reads
// its failed events. `run`, when given, must be of `campaign`
// (Errc::RunHistory otherwise). Uses the caller's thread and `ops`.
Result<DropReport> gatherDropReport(CampaignOps &ops, const QString &campaign, int auditTimeoutMs,
                                    std::optional<RunRecord> run, const ReportStamp &stamp);

} // namespace coupon
