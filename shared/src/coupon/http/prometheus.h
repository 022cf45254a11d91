#pragma once

// Writing the Prometheus text exposition format (version 0.0.4), for every
// process's /metrics: the gateway's and the worker's admin listeners.

#include <QByteArray>

#include <span>

namespace coupon::http {

// The Content-Type of a /metrics page.
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4";

// A metric family's HELP and TYPE lines.
void appendFamily(QByteArray &out, const char *name, const char *type, const char *help);
// One sample line: `name{labels} value` (labels without braces, may be empty).
void appendSample(QByteArray &out, const char *name, const QByteArray &labels, const QByteArray &value);
// A metric with one sample: its HELP and TYPE lines, then the sample.
void appendMetric(QByteArray &out, const char *name, const char *type, const char *help, const QByteArray &value);
// A histogram from per-bucket counts: `counts` has one entry per upper
// bound plus one for +Inf (not cumulative); _count is their sum.
void appendHistogram(QByteArray &out, const char *name, const char *help, std::span<const double> bounds,
                     std::span<const qint64> counts, double sum);

} // namespace coupon::http
