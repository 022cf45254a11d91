#pragma once

// The drop report as one self-contained HTML file: inline CSS, the charts
// as inline SVG, no script and no external reference, every text escaped.
// The markup is well-formed XML, and every figure sits in an element a
// parser can find: data-field="NAME" (the value is the element's text, or
// its data-value attribute when the text carries a unit), tables with ids
// ("campaign", "run", "outcomes", "latency", "invariants", "failed-events"),
// and data-invariant="n" on each invariant's row.

#include "coupon/report/drop_report.h"

#include <QSizeF>
#include <QString>

namespace coupon {

enum class ChartMarkup {
    InlineSvg, // the file's charts: <svg> elements
    // <img src="chart:ID">, for a QTextDocument (which draws no SVG) given
    // each chart as an image resource under chartImageUrl(ID).
    ImageResources,
};

inline constexpr QSizeF kReportChartSize{660, 240}; // fits an A4 page with 12 mm margins

QString chartImageUrl(const QString &chartId);

QString renderReportHtml(const DropReport &report, ChartMarkup charts = ChartMarkup::InlineSvg);
// The HTML, written atomically to `path` (Errc::RunHistory naming the file
// when it cannot be).
Status writeReportHtml(const DropReport &report, const QString &path);

} // namespace coupon
