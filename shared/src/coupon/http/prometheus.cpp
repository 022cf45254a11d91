#include "coupon/http/prometheus.h"

namespace coupon::http {

void appendFamily(QByteArray &out, const char *name, const char *type, const char *help)
{
    out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(' ');
    out.append(type).append('\n');
}

void appendSample(QByteArray &out, const char *name, const QByteArray &labels, const QByteArray &value)
{
    out.append(name);
    if (!labels.isEmpty())
        out.append('{').append(labels).append('}');
    out.append(' ').append(value).append('\n');
}

void appendMetric(QByteArray &out, const char *name, const char *type, const char *help, const QByteArray &value)
{
    appendFamily(out, name, type, help);
    appendSample(out, name, {}, value);
}

void appendHistogram(QByteArray &out, const char *name, const char *help, std::span<const double> bounds,
                     std::span<const qint64> counts, double sum)
{
    appendFamily(out, name, "histogram", help);
    const QByteArray bucket = QByteArray(name).append("_bucket");
    qint64 cumulative = 0;
    for (size_t b = 0; b <= bounds.size() && b < counts.size(); ++b) {
        cumulative += counts[b];
        const QByteArray le = b < bounds.size() ? QByteArray::number(bounds[b]) : QByteArray("+Inf");
        appendSample(out, bucket.constData(), QByteArray("le=\"").append(le).append('"'),
                     QByteArray::number(cumulative));
    }
    appendSample(out, QByteArray(name).append("_sum").constData(), {}, QByteArray::number(sum, 'f', 6));
    appendSample(out, QByteArray(name).append("_count").constData(), {}, QByteArray::number(cumulative));
}

} // namespace coupon::http
