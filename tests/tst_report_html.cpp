// The drop report's HTML and charts without any service: every text
// escaped (a campaign or a failed event may carry markup), nothing but the
// file itself needed to show it, each figure where a parser finds it, and
// the charts of an empty or one-sample timeline.

#include "coupon/report/markup.h"
#include "coupon/report/report_chart.h"
#include "coupon/report/report_html.h"
#include "report_fields.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

DropReport baseReport()
{
    DropReport r;
    r.campaign = u"spring"_s;
    r.audit.ok = true;
    r.audit.summary = u"100 issued of 100 · 0 duplicates · 0 lost · 0 stray · 0 pending"_s;
    r.audit.status.campaign.id = u"spring"_s;
    r.audit.status.campaign.name = u"Spring drop"_s;
    r.audit.status.campaign.limit = 100;
    r.audit.status.campaign.issued = 100;
    r.audit.status.campaign.state = u"open"_s;
    r.audit.status.coupons = 100;
    r.audit.status.redisCount = 100;
    r.audit.status.redisUsers = 100;
    r.audit.status.pending = 0;
    r.audit.status.topicLag = 0;
    r.stamp = ReportStamp{u"ops"_s, u"host1"_s, QDateTime(QDate(2026, 11, 30), QTime(10, 0), Qt::UTC), u"couponctl"_s,
                          u"1.2.3"_s};
    return r;
}

RunSample sampleAt(qint64 atMs, qint64 accepted, qint64 soldOut, qint64 redis, qint64 issued)
{
    RunSample s;
    s.atMs = atMs;
    s.answers[size_t(ApplyOutcome::Accepted)] = accepted;
    s.answers[size_t(ApplyOutcome::SoldOut)] = soldOut;
    s.p50Ms = 1.5;
    s.p95Ms = 4;
    s.p99Ms = 9;
    s.redisCount = redis;
    s.issued = issued;
    return s;
}

RunRecord baseRun()
{
    RunRecord run;
    run.id = u"20261130-100000-000-spring"_s;
    run.campaign = u"spring"_s;
    run.tool = u"couponctl"_s;
    run.operatorName = u"ops@host1"_s;
    run.target = u"in-process"_s;
    run.users = 1000;
    run.concurrency = 32;
    run.figures.attempts = 1000;
    run.figures.byStatus[size_t(ApplyOutcome::Accepted)] = 100;
    run.figures.byStatus[size_t(ApplyOutcome::SoldOut)] = 900;
    run.figures.p50Ms = 1.5;
    run.figures.p95Ms = 4.25;
    run.figures.p99Ms = 9;
    run.figures.maxMs = 20;
    run.figures.seconds = 2;
    run.drainSeconds = 0.75;
    return run;
}

bool inside(const QRectF &rect, const QPointF &p)
{
    return std::isfinite(p.x()) && std::isfinite(p.y()) && p.x() >= rect.left() - 0.01 && p.x() <= rect.right() + 0.01
        && p.y() >= rect.top() - 0.01 && p.y() <= rect.bottom() + 0.01;
}

} // namespace

class TestReportHtml : public QObject
{
    Q_OBJECT

private slots:
    void escapeKeepsMarkupOut()
    {
        QCOMPARE(htmlEscape(u"<script>a & \"b\"</script>"_s), u"&lt;script&gt;a &amp; &quot;b&quot;&lt;/script&gt;"_s);
        // XML 1.0 has no place for most control characters: replaced, not dropped.
        QCOMPARE(htmlEscape(u"a\u0001b\tc"_s), u"a\uFFFDb\tc"_s);
    }

    void everyTextIsEscaped()
    {
        DropReport r = baseReport();
        const QString name = u"<script>alert(\"x\")</script> & <b>co</b>"_s;
        r.audit.status.campaign.name = name;
        r.audit.notes = {u"note <i>&amp;</i>"_s};
        FailedEventRow e;
        e.id = 7;
        e.reason = u"<img src=x onerror=alert(1)>"_s;
        e.value = QByteArray("<script>&\x01");
        e.createdAt = QDateTime::currentDateTimeUtc();
        r.failedEvents = {e};
        r.failedEventTotal = 1;
        RunRecord run = baseRun();
        run.operatorName = u"a&b<c>"_s;
        run.error = u"stopped\u0002 <here>"_s;
        r.run = run;

        const QString html = renderReportHtml(r);
        const test::ParsedReport parsed = test::parseReport(html);
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QVERIFY(!html.contains(u"<script"_s, Qt::CaseInsensitive));
        QVERIFY(!html.contains(u"<img"_s, Qt::CaseInsensitive));
        QVERIFY(!html.contains(u"<b>"_s));
        QCOMPARE(parsed.field(u"name"_s), name);
        QCOMPARE(parsed.field(u"run-operator"_s), u"a&b<c>"_s);
        QCOMPARE(parsed.field(u"run-error"_s), u"stopped\uFFFD <here>"_s);
        QCOMPARE(parsed.failedEventRows, 1);
        QVERIFY(parsed.texts.contains(e.reason));
        QVERIFY(parsed.texts.contains(u"3c 73 63 72 69 70 74 3e 26 01 |<script>&.|"_s));
        QVERIFY(parsed.texts.contains(u"note <i>&amp;</i>"_s));
        // Only the elements the renderer writes: nothing a text smuggled in.
        for (const QString &element : parsed.elementNames)
            QVERIFY2(element != u"script"_s && element != u"i"_s && element != u"b"_s, qPrintable(element));
    }

    void selfContained()
    {
        DropReport r = baseReport();
        RunRecord run = baseRun();
        run.samples = {sampleAt(250, 40, 0, 40, 10), sampleAt(500, 60, 100, 100, 80), sampleAt(750, 0, 800, 100, 100)};
        r.run = run;
        const QString html = renderReportHtml(r);
        QVERIFY(test::parseReport(html).error.isEmpty());
        for (const QString &outside : {u"<script"_s, u" src="_s, u"href="_s, u"@import"_s, u"url("_s, u"<link"_s})
            QVERIFY2(!html.contains(outside, Qt::CaseInsensitive), qPrintable(outside));
        // The one URI in it is SVG's namespace name, which fetches nothing.
        QCOMPARE(html.count(u"http"_s), html.count(u"xmlns=\"http://www.w3.org/2000/svg\""_s));
        QVERIFY(html.contains(u"<style>"_s));
    }

    void figuresWhereAParserFindsThem()
    {
        DropReport r = baseReport();
        r.run = baseRun();
        const test::ParsedReport p = test::parseReport(renderReportHtml(r));
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        QCOMPARE(p.field(u"campaign"_s), u"spring"_s);
        QCOMPARE(p.field(u"issued"_s), u"100"_s);
        QCOMPARE(p.field(u"limit"_s), u"100"_s);
        QCOMPARE(p.field(u"redis-count"_s), u"100"_s);
        QCOMPARE(p.field(u"pending"_s), u"0"_s);
        QCOMPARE(p.field(u"outcome-accepted"_s), u"100"_s);
        QCOMPARE(p.field(u"outcome-sold_out"_s), u"900"_s);
        QCOMPARE(p.field(u"outcome-duplicate"_s), u"0"_s);
        QCOMPARE(p.field(u"answered"_s), u"1000"_s);
        QCOMPARE(p.field(u"p50-ms"_s), u"1.500"_s);
        QCOMPARE(p.field(u"p95-ms"_s), u"4.250"_s);
        QCOMPARE(p.field(u"p99-ms"_s), u"9.000"_s);
        QCOMPARE(p.field(u"drain-seconds"_s), u"0.750"_s);
        QCOMPARE(p.field(u"generated-by"_s), u"ops"_s);
        QCOMPARE(p.field(u"generated-host"_s), u"host1"_s);
        QCOMPARE(p.field(u"generated-at"_s), u"2026-11-30T10:00:00.000Z"_s);
        QCOMPARE(p.field(u"version"_s), u"1.2.3"_s);
        QCOMPARE(p.field(u"verdict"_s), u"ok"_s);
        for (int n = 1; n <= 5; ++n)
            QCOMPARE(p.field(u"invariant-%1"_s.arg(n)), u"holds"_s);
        QCOMPARE(p.field(u"failed-events"_s), u"0"_s);
    }

    void violationsGoToTheirInvariant()
    {
        DropReport r = baseReport();
        r.audit.ok = false;
        r.audit.violations = {u"1: campaign.issued says 100 but 99 coupon rows exist"_s,
                              u"5: MySQL 99, Redis count 100, users 100, pending 0"_s};
        const test::ParsedReport p = test::parseReport(renderReportHtml(r));
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        QCOMPARE(p.field(u"verdict"_s), u"violated"_s);
        QCOMPARE(p.field(u"invariant-1"_s), u"VIOLATED"_s);
        QCOMPARE(p.field(u"invariant-2"_s), u"holds"_s);
        QCOMPARE(p.field(u"invariant-3"_s), u"holds"_s);
        QCOMPARE(p.field(u"invariant-4"_s), u"holds"_s);
        QCOMPARE(p.field(u"invariant-5"_s), u"VIOLATED"_s);
        QVERIFY(p.texts.contains(u"campaign.issued says 100 but 99 coupon rows exist"_s));
        QCOMPARE(violationsOf(r.audit, 5), QStringList{u"MySQL 99, Redis count 100, users 100, pending 0"_s});
    }

    void emptyTimeline()
    {
        const QList<Chart> charts = timelineCharts(baseRun());
        QCOMPARE(charts.size(), 3); // no lag chart without lag samples
        for (const Chart &chart : charts) {
            QVERIFY(chart.isEmpty());
            const ChartLayout l = layoutChart(chart, kReportChartSize);
            QCOMPARE(l.emptyText, u"no samples"_s);
            QVERIFY(l.lines.isEmpty());
            const QString svg = chartSvg(chart, kReportChartSize);
            QVERIFY(svg.contains(u"no samples"_s));
            QVERIFY2(test::parseReport(svg).error.isEmpty(), qPrintable(svg));
        }
        DropReport r = baseReport();
        r.run = baseRun();
        const test::ParsedReport p = test::parseReport(renderReportHtml(r));
        QCOMPARE(p.svgIds, (QStringList{u"chart-rates"_s, u"chart-latency"_s, u"chart-counts"_s}));
        QCOMPARE(p.polylines, 0);
    }

    void singleSample()
    {
        RunRecord run = baseRun();
        RunSample s = sampleAt(250, 10, 0, 10, 5);
        s.lag = 3;
        run.samples = {s};
        const QList<Chart> charts = timelineCharts(run);
        QCOMPARE(charts.size(), 4);
        const Chart &rates = charts.at(0);
        QCOMPARE(rates.id, u"rates"_s);
        QCOMPARE(rates.series.size(), 1); // only the outcomes that occurred
        QCOMPARE(rates.series.first().name, u"accepted"_s);
        QCOMPARE(rates.series.first().points, (QList<QPointF>{{0.25, 40.0}})); // 10 answers in 0.25 s
        QCOMPARE(charts.at(2).series.at(1).points, (QList<QPointF>{{0.25, 5.0}}));
        for (const Chart &chart : charts) {
            const ChartLayout l = layoutChart(chart, kReportChartSize);
            QVERIFY(l.emptyText.isEmpty());
            QVERIFY(l.xTicks.size() >= 2);
            QVERIFY(l.yTicks.size() >= 2);
            QCOMPARE(l.yTicks.first().label, u"0"_s);
            for (const ChartLine &line : l.lines) {
                QCOMPARE(line.points.size(), 1);
                QVERIFY2(inside(l.plot, line.points.first()), qPrintable(chart.id));
            }
            const QString svg = chartSvg(chart, kReportChartSize);
            QVERIFY(test::parseReport(svg).error.isEmpty());
            QVERIFY(svg.contains(u"<circle"_s)); // a lone point still shows
        }
    }

    void roundAxes()
    {
        RunRecord run = baseRun();
        for (int i = 1; i <= 10; ++i)
            run.samples.append(sampleAt(i * 1000, 0, 0, i * 93 + 7, i * 90));
        const Chart counts = timelineCharts(run).at(2);
        const ChartLayout l = layoutChart(counts, kReportChartSize);
        QCOMPARE(l.yTicks.last().label, u"1000"_s); // 937 rounds up
        QCOMPARE(l.xTicks.first().label, u"0"_s);
        QCOMPARE(l.xTicks.last().label, u"10"_s);
        // The largest value sits below the top, the last point at the right edge.
        const QPointF last = l.lines.at(0).points.last();
        QCOMPARE(last.x(), l.plot.right());
        QVERIFY(last.y() > l.plot.top());
        QCOMPARE(l.yTicks.last().at, l.plot.top());
    }

    void imageResourcesForQTextDocument()
    {
        DropReport r = baseReport();
        r.run = baseRun();
        const QString html = renderReportHtml(r, ChartMarkup::ImageResources);
        QVERIFY(!html.contains(u"<svg"_s));
        QVERIFY(html.contains(u"<img src=\"chart:rates\""_s));
        QVERIFY(test::parseReport(html).error.isEmpty());
    }

    // A sample taken in the same ms as the one before (the last tick right
    // after a timer's): its answers join that interval, not vanish.
    void sameMsSampleFoldsIntoItsInterval()
    {
        RunRecord run = baseRun();
        run.samples = {sampleAt(250, 10, 0, -1, -1), sampleAt(500, 10, 0, -1, -1), sampleAt(500, 7, 3, -1, -1)};
        const Chart rates = timelineCharts(run).at(0);
        QCOMPARE(rates.series.size(), 2);
        QCOMPARE(rates.series.at(0).name, u"accepted"_s);
        // 10 in the first 0.25 s, 10 + 7 in the second.
        QCOMPARE(rates.series.at(0).points, (QList<QPointF>{{0.25, 40.0}, {0.5, 68.0}}));
        QCOMPARE(rates.series.at(1).points, (QList<QPointF>{{0.25, 0.0}, {0.5, 12.0}}));
    }

    // Answers counted before their latency is: no latency point at 0 (the
    // console's log axis has no place for it, and the two draw the same).
    void latencyNeedsAP50()
    {
        RunRecord run = baseRun();
        RunSample early = sampleAt(250, 5, 0, -1, -1);
        early.p50Ms = early.p95Ms = early.p99Ms = 0;
        run.samples = {early, sampleAt(500, 5, 0, -1, -1)};
        const Chart latency = timelineCharts(run).at(1);
        QCOMPARE(latency.series.at(0).points, (QList<QPointF>{{0.5, 1.5}}));
    }

    // Values no axis can hold (a hand-edited record that got past the
    // checks, a chart built by hand) end with a bounded layout, not a
    // tick loop that never ends.
    void absurdValuesStillLayOut()
    {
        for (const double huge : {1.6e308, -1.7e308, std::numeric_limits<double>::infinity(), std::nan("")}) {
            Chart chart{u"latency"_s, u"t"_s, u"ms"_s, {ChartSeries{u"p99"_s, u"#c62828"_s, {{0.25, 1}, {0.5, huge}}}}};
            const ChartLayout l = layoutChart(chart, kReportChartSize);
            QVERIFY2(l.yTicks.size() <= 25, qPrintable(QString::number(l.yTicks.size())));
            QVERIFY(l.xTicks.size() <= 25);
            QVERIFY(!chartSvg(chart, kReportChartSize).isEmpty());
        }
    }

    // The run's verdict in the report is the shared text: an audit that
    // gave no verdict is not a violation.
    void runWithoutAVerdictIsNotViolated()
    {
        DropReport r = baseReport();
        RunRecord run = baseRun();
        run.setAudit(nullptr, u"not drained within 120000 ms"_s);
        r.run = run;
        const test::ParsedReport p = test::parseReport(renderReportHtml(r));
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        QCOMPARE(p.field(u"run-audit"_s), u"no verdict: not drained within 120000 ms"_s);
    }

    void noRunNoTimeline()
    {
        const QString html = renderReportHtml(baseReport());
        const test::ParsedReport p = test::parseReport(html);
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        QVERIFY(p.svgIds.isEmpty());
        QVERIFY(!p.fields.contains(u"attempts"_s));
        QVERIFY(html.contains(u"No run"_s));
    }
};

QTEST_GUILESS_MAIN(TestReportHtml)
#include "tst_report_html.moc"
