#include "coupon/report/report_html.h"

#include "coupon/base/stamp.h"
#include "coupon/report/markup.h"
#include "coupon/report/report_chart.h"
#include "coupon/service/failed_events.h"

#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

const auto kStyle = uR"(
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 13px; color: #212121; margin: 24px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 24px; border-bottom: 1px solid #bdbdbd; }
h3 { font-size: 14px; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #e0e0e0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background-color: #f5f5f5; font-weight: bold; }
td.number { text-align: right; }
.stamp { color: #616161; }
.verdict { font-size: 15px; font-weight: bold; padding: 6px 10px; }
.ok { color: #1b5e20; background-color: #e8f5e9; }
.bad { color: #b71c1c; background-color: #ffebee; }
.bytes { font-family: "DejaVu Sans Mono", monospace; }
)"_s;

QString msTime(qint64 epochMs)
{
    return epochMs > 0 ? timeText(QDateTime::fromMSecsSinceEpoch(epochMs, Qt::UTC)) : u"-"_s;
}

// Builds the markup; every text goes through htmlEscape, numbers as they are.
class Html
{
public:
    QString out;

    void raw(const QString &markup) { out += markup; }
    void text(const QString &t) { out += htmlEscape(t); }
    void element(const QString &tag, const QString &t, const QString &attributes = {})
    {
        out += u'<' + tag + attributes + u'>' + htmlEscape(t) + u"</"_s + tag + u'>';
    }
    static QString attr(const QString &name, const QString &value)
    {
        return u' ' + name + u"=\""_s + htmlEscape(value) + u'"';
    }
    static QString field(const QString &name) { return attr(u"data-field"_s, name); }

    // A row of a two-column facts table: <tr><th>label</th><td data-field=...>text</td></tr>.
    void fact(const QString &label, const QString &name, const QString &t, const QString &value = {})
    {
        raw(u"<tr>"_s);
        element(u"th"_s, label);
        element(u"td"_s, t, field(name) + (value.isNull() ? QString() : attr(u"data-value"_s, value)));
        raw(u"</tr>\n"_s);
    }
    void fact(const QString &label, const QString &name, qint64 n)
    {
        raw(u"<tr>"_s);
        element(u"th"_s, label);
        element(u"td"_s, QString::number(n), field(name) + attr(u"class"_s, u"number"_s));
        raw(u"</tr>\n"_s);
    }
    // A latency: "1.50 ms" for people, data-value in ms for parsers.
    void latency(const QString &label, const QString &name, double ms)
    {
        fact(label, name, latencyText(ms), fixedNumber(ms, 3));
    }
};

void campaignSection(Html &h, const DropReport &r)
{
    const CampaignOverview &s = r.audit.status;
    const Campaign &c = s.campaign;
    h.raw(u"<h2>Campaign</h2>\n<table id=\"campaign\">\n"_s);
    h.fact(u"Id"_s, u"campaign-id"_s, c.id);
    h.fact(u"Name"_s, u"name"_s, c.name);
    h.fact(u"State"_s, u"state"_s, c.state);
    // No start or end: open from its creation, or until closed.
    const QString window = !c.startsAt.isValid() && !c.endsAt.isValid()
        ? u"none (open until closed)"_s
        : (c.startsAt.isValid() ? timeText(c.startsAt) : u"any time"_s) + u" .. "_s
            + (c.endsAt.isValid() ? timeText(c.endsAt) : u"until closed"_s);
    h.fact(u"Window"_s, u"window"_s, window);
    h.fact(u"Limit"_s, u"limit"_s, c.limit);
    h.fact(u"Coupons issued (MySQL rows)"_s, u"issued"_s, s.coupons);
    h.fact(u"campaign.issued (MySQL)"_s, u"campaign-issued"_s, c.issued);
    h.fact(u"Redis counter"_s, u"redis-count"_s, s.redisCount);
    h.fact(u"Redis users"_s, u"redis-users"_s, s.redisUsers);
    h.fact(u"Pending reservations"_s, u"pending"_s, s.pending);
    h.fact(u"Topic lag"_s, u"topic-lag"_s, s.topicLag);
    h.raw(u"</table>\n"_s);
}

void runSection(Html &h, const RunRecord &run, ChartMarkup charts)
{
    const SimulationFigures &f = run.figures;
    h.raw(u"<h2>Run</h2>\n<table id=\"run\">\n"_s);
    h.fact(u"Run"_s, u"run-id"_s, run.id);
    h.fact(u"Run by"_s, u"run-operator"_s, run.operatorName);
    h.fact(u"With"_s, u"run-tool"_s, run.tool);
    h.fact(u"Against"_s, u"run-target"_s, run.target);
    h.fact(u"Started"_s, u"run-started"_s, msTime(run.startedAtMs));
    h.fact(u"Finished"_s, u"run-finished"_s, msTime(run.finishedAtMs));
    h.fact(u"Users"_s, u"users"_s, run.users);
    h.fact(u"First user"_s, u"first-user"_s, run.firstUser);
    h.fact(u"Concurrency"_s, u"concurrency"_s, run.concurrency);
    h.fact(u"Repeat attempts (% of users)"_s, u"duplicate-percent"_s, run.duplicatePercent);
    h.fact(u"Seed"_s, u"seed"_s, qint64(run.seed));
    h.fact(u"Attempts"_s, u"attempts"_s, f.attempts);
    h.fact(u"Duration"_s, u"seconds"_s, fixedNumber(f.seconds, 3) + u" s"_s, fixedNumber(f.seconds, 3));
    h.fact(u"Answers per second"_s, u"applies-per-second"_s, fixedNumber(f.appliesPerSecond, 1),
           fixedNumber(f.appliesPerSecond, 3));
    h.fact(u"Accepted per second"_s, u"accepted-per-second"_s, fixedNumber(f.acceptedPerSecond, 1),
           fixedNumber(f.acceptedPerSecond, 3));
    h.fact(u"Cancelled"_s, u"cancelled"_s, f.cancelled ? u"yes"_s : u"no"_s);
    if (!run.error.isEmpty())
        h.fact(u"Stopped by"_s, u"run-error"_s, run.error);
    h.fact(u"Audit right after the run"_s, u"run-audit"_s,
           runVerdictText(run)
               + (run.audited && !run.auditSummary.isEmpty() ? u" (%1)"_s.arg(run.auditSummary) : QString()));
    h.raw(u"</table>\n"_s);

    h.raw(u"<h3>Outcomes</h3>\n<table id=\"outcomes\">\n<tr><th>Outcome</th><th>Answers</th><th>Share</th></tr>\n"_s);
    qint64 answered = 0;
    for (const qint64 n : f.byStatus)
        answered += n;
    for (int i = 0; i < kApplyOutcomeCount; ++i) {
        const QString name = toString(ApplyOutcome(i));
        const qint64 n = f.byStatus[size_t(i)];
        h.raw(u"<tr>"_s);
        h.element(u"td"_s, name);
        h.element(u"td"_s, QString::number(n), Html::field(u"outcome-"_s + name) + Html::attr(u"class"_s, u"number"_s));
        h.element(u"td"_s, answered > 0 ? fixedNumber(100.0 * n / answered, 1) + u" %"_s : u"-"_s,
                  Html::attr(u"class"_s, u"number"_s));
        h.raw(u"</tr>\n"_s);
    }
    h.raw(u"<tr><th>all</th>"_s);
    h.element(u"td"_s, QString::number(answered), Html::field(u"answered"_s) + Html::attr(u"class"_s, u"number"_s));
    h.raw(u"<td></td></tr>\n</table>\n"_s);

    h.raw(u"<h3>Latency and drain</h3>\n<table id=\"latency\">\n"_s);
    h.latency(u"p50"_s, u"p50-ms"_s, f.p50Ms);
    h.latency(u"p95"_s, u"p95-ms"_s, f.p95Ms);
    h.latency(u"p99"_s, u"p99-ms"_s, f.p99Ms);
    h.latency(u"max"_s, u"max-ms"_s, f.maxMs);
    if (run.drainSeconds >= 0)
        h.fact(u"Drain (last answer to lag 0)"_s, u"drain-seconds"_s, fixedNumber(run.drainSeconds, 3) + u" s"_s,
               fixedNumber(run.drainSeconds, 3));
    else
        h.fact(u"Drain (last answer to lag 0)"_s, u"drain-seconds"_s, u"not seen"_s, u"-1"_s);
    h.raw(u"</table>\n"_s);

    h.raw(u"<h2>Timeline</h2>\n"_s);
    h.element(u"p"_s, u"%1 sample(s), one every interval of the run."_s.arg(run.samples.size()),
              Html::attr(u"id"_s, u"timeline"_s));
    h.raw(u"\n"_s);
    for (const Chart &chart : timelineCharts(run)) {
        h.element(u"h3"_s, chart.title);
        h.raw(u"\n<div class=\"chart\">\n"_s);
        if (charts == ChartMarkup::InlineSvg)
            h.raw(chartSvg(chart, kReportChartSize));
        else
            h.raw(u"<img"_s + Html::attr(u"src"_s, chartImageUrl(chart.id))
                  + Html::attr(u"width"_s, QString::number(int(kReportChartSize.width())))
                  + Html::attr(u"height"_s, QString::number(int(kReportChartSize.height())))
                  + Html::attr(u"alt"_s, chart.title) + u"/>"_s);
        h.raw(u"\n</div>\n"_s);
    }
}

void invariantsSection(Html &h, const AuditReport &audit)
{
    h.raw(u"<h2>Invariants</h2>\n"_s);
    h.element(u"p"_s, audit.summary, Html::field(u"audit-summary"_s));
    h.raw(u"\n<table id=\"invariants\">\n<tr><th>#</th><th>Invariant</th><th>Verdict</th><th>Found</th></tr>\n"_s);
    const QStringList &texts = invariantTexts();
    for (int n = 1; n <= texts.size(); ++n) {
        const QStringList found = violationsOf(audit, n);
        h.raw(u"<tr"_s + Html::attr(u"data-invariant"_s, QString::number(n)) + u'>');
        h.element(u"td"_s, QString::number(n));
        h.element(u"td"_s, texts.at(n - 1));
        h.element(u"td"_s, found.isEmpty() ? u"holds"_s : u"VIOLATED"_s,
                  Html::field(u"invariant-%1"_s.arg(n)) + Html::attr(u"class"_s, found.isEmpty() ? u"ok"_s : u"bad"_s));
        h.element(u"td"_s, found.join(u"; "_s));
        h.raw(u"</tr>\n"_s);
    }
    h.raw(u"</table>\n"_s);
    if (!audit.notes.isEmpty()) {
        h.raw(u"<ul id=\"audit-notes\">\n"_s);
        for (const QString &note : audit.notes) {
            h.element(u"li"_s, note);
            h.raw(u"\n"_s);
        }
        h.raw(u"</ul>\n"_s);
    }
}

void failedEventsSection(Html &h, const DropReport &r)
{
    h.raw(u"<h2>Failed events</h2>\n<p>"_s);
    h.element(u"span"_s, QString::number(r.failedEventTotal), Html::field(u"failed-events"_s));
    h.text(u" recorded for this campaign, "_s);
    h.element(u"span"_s, QString::number(r.audit.unresolvedFailedEvents), Html::field(u"failed-unresolved"_s));
    h.text(u" unresolved"_s);
    if (r.failedEvents.size() < r.failedEventTotal)
        h.text(u"; the first %1 are listed"_s.arg(r.failedEvents.size()));
    h.raw(u".</p>\n"_s);
    if (r.failedEvents.isEmpty())
        return;
    h.raw(u"<table id=\"failed-events\">\n<tr><th>Id</th><th>Recorded</th><th>Reason</th><th>Partition</th>"
          "<th>Offset</th><th>Key</th><th>Value</th><th>State</th></tr>\n"_s);
    for (const FailedEventRow &e : r.failedEvents) {
        const QString state = e.resolved() ? u"resolved by %1: %2"_s.arg(e.resolvedBy, e.resolution)
            : e.retries > 0                ? u"unresolved, last retry: "_s + e.lastRetryOutcome
                                           : u"unresolved"_s;
        h.raw(u"<tr"_s + Html::attr(u"data-failed-event"_s, QString::number(e.id)) + u'>');
        h.element(u"td"_s, QString::number(e.id), Html::attr(u"class"_s, u"number"_s));
        h.element(u"td"_s, timeText(e.createdAt));
        h.element(u"td"_s, e.reason);
        h.element(u"td"_s, QString::number(e.partition), Html::attr(u"class"_s, u"number"_s));
        h.element(u"td"_s, QString::number(e.offset), Html::attr(u"class"_s, u"number"_s));
        h.element(u"td"_s, safeBytes(e.key), Html::attr(u"class"_s, u"bytes"_s));
        h.element(u"td"_s, safeBytes(e.value), Html::attr(u"class"_s, u"bytes"_s));
        h.element(u"td"_s, state);
        h.raw(u"</tr>\n"_s);
    }
    h.raw(u"</table>\n"_s);
}

} // namespace

QString chartImageUrl(const QString &chartId)
{
    return u"chart:"_s + chartId;
}

QString renderReportHtml(const DropReport &r, ChartMarkup charts)
{
    Html h;
    const QString title = u"Drop report: "_s + r.campaign;
    h.raw(u"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"_s);
    h.element(u"title"_s, title);
    h.raw(u"\n<style>"_s + kStyle + u"</style>\n</head>\n<body>\n"_s);
    h.raw(u"<h1>Drop report: "_s);
    h.element(u"span"_s, r.campaign, Html::field(u"campaign"_s));
    h.raw(u"</h1>\n"_s);

    h.raw(u"<p class=\"stamp\">Made by "_s);
    h.element(u"span"_s, r.stamp.by, Html::field(u"generated-by"_s));
    h.text(u" on "_s);
    h.element(u"span"_s, r.stamp.host, Html::field(u"generated-host"_s));
    h.text(u" at "_s);
    h.element(u"span"_s, timeText(r.stamp.at), Html::field(u"generated-at"_s));
    h.text(u" with "_s);
    h.element(u"span"_s, r.stamp.tool, Html::field(u"generated-tool"_s));
    h.text(u" "_s);
    h.element(u"span"_s, r.stamp.version, Html::field(u"version"_s));
    h.raw(u"</p>\n"_s);

    const bool ok = r.audit.ok;
    h.element(u"p"_s,
              ok ? u"All five invariants hold."_s
                 : u"%1 invariant violation(s): see Invariants."_s.arg(r.audit.violations.size()),
              Html::field(u"verdict"_s) + Html::attr(u"data-value"_s, ok ? u"ok"_s : u"violated"_s)
                  + Html::attr(u"class"_s, ok ? u"verdict ok"_s : u"verdict bad"_s));
    h.raw(u"\n"_s);

    campaignSection(h, r);
    if (r.run)
        runSection(h, *r.run, charts);
    else
        h.raw(u"<h2>Run</h2>\n<p id=\"run\">No run: this report is on the campaign as it stands.</p>\n"_s);
    invariantsSection(h, r.audit);
    failedEventsSection(h, r);
    h.raw(u"</body>\n</html>\n"_s);
    return h.out;
}

Status writeReportHtml(const DropReport &report, const QString &path)
{
    QSaveFile file(path);
    const QByteArray html = renderReportHtml(report).toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(html) != html.size() || !file.commit())
        return Error(Errc::RunHistory, u"cannot write %1: %2"_s.arg(path, file.errorString()));
    return Ok{};
}

} // namespace coupon
