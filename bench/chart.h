#pragma once

#include <QString>

namespace coupon::bench {

// Renders the ratios of a scripts/bench run (bench.json) as a bar chart PNG.
// Needs a QApplication (offscreen is fine). Returns an error text, or empty.
QString renderChart(const QString &jsonPath, const QString &pngPath);

} // namespace coupon::bench
