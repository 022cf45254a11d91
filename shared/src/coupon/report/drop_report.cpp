#include "coupon/report/drop_report.h"

#include "coupon/base/stamp.h"
#include "coupon/version.h"

#include <QSysInfo>

using namespace Qt::StringLiterals;

namespace coupon {

ReportStamp ReportStamp::now(const QString &by, const QString &tool)
{
    return ReportStamp{by.isEmpty() ? loginName() : by, QSysInfo::machineHostName(), QDateTime::currentDateTimeUtc(),
                       tool, QString::fromLatin1(kVersion)};
}

const QStringList &invariantTexts()
{
    static const QStringList texts{
        u"Coupons of a campaign <= its limit."_s,
        u"No user holds two coupons of one campaign."_s,
        u"Every apply answered accepted has a coupon once the topic is drained."_s,
        u"No apply answered 4xx or released-503 has a coupon."_s,
        u"Drained and settled: MySQL count = Redis count = |users set|, pending empty."_s,
    };
    return texts;
}

QStringList violationsOf(const AuditReport &audit, int n)
{
    const QString prefix = QString::number(n) + u": "_s;
    QStringList lines;
    for (const QString &v : audit.violations) {
        if (v.startsWith(prefix))
            lines.append(v.mid(prefix.size()));
    }
    return lines;
}

Result<DropReport> gatherDropReport(CampaignOps &ops, const QString &campaign, int auditTimeoutMs,
                                    std::optional<RunRecord> run, const ReportStamp &stamp)
{
    if (run && run->campaign != campaign)
        return Error(Errc::RunHistory, u"run %1 is of campaign %2, not %3"_s.arg(run->id, run->campaign, campaign));
    DropReport report;
    report.campaign = campaign;
    report.run = std::move(run);
    report.stamp = stamp;

    Result<AuditReport> audit = ops.audit(campaign, auditTimeoutMs);
    if (!audit)
        return audit.error();
    report.audit = std::move(audit).value();

    Result<qint64> total = ops.store().failedEventCount(campaign);
    if (!total)
        return total.error();
    report.failedEventTotal = *total;
    qint64 afterId = 0;
    while (report.failedEvents.size() < DropReport::kMaxFailedEvents) {
        const int limit = int(std::min<qint64>(500, DropReport::kMaxFailedEvents - report.failedEvents.size()));
        Result<QList<FailedEventRow>> page = ops.store().failedEvents(afterId, limit, campaign);
        if (!page)
            return page.error();
        report.failedEvents.append(*page);
        if (page->size() < limit)
            break;
        afterId = page->constLast().id;
    }
    return report;
}

} // namespace coupon
