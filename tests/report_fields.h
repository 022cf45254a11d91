#pragma once

// Reads a drop report (coupon/report/report_html.h) back the way a script
// would: as XML, each data-field's value (its data-value attribute, else
// its text), the invariants' verdicts and what else a test looks for.

#include <QMap>
#include <QString>
#include <QStringList>
#include <QXmlStreamReader>

namespace coupon::test {

struct ParsedReport
{
    QString error; // not well-formed: why (empty: parsed)
    QMap<QString, QString> fields;
    QStringList elementNames; // every element, in order
    QStringList svgIds;       // the charts' <svg id="chart-…">
    int polylines = 0;
    int failedEventRows = 0;
    QStringList texts; // every text node, unescaped

    QString field(const QString &name) const { return fields.value(name, QStringLiteral("(missing)")); }
};

inline ParsedReport parseReport(const QString &html)
{
    using namespace Qt::StringLiterals;
    ParsedReport r;
    QXmlStreamReader xml(html);
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isCharacters() && !xml.isWhitespace())
            r.texts.append(xml.text().toString());
        if (!xml.isStartElement())
            continue;
        const QString name = xml.name().toString();
        r.elementNames.append(name);
        const QXmlStreamAttributes attributes = xml.attributes();
        if (name == u"svg"_s)
            r.svgIds.append(attributes.value(u"id"_s).toString());
        if (name == u"polyline"_s)
            ++r.polylines;
        if (attributes.hasAttribute(u"data-failed-event"_s))
            ++r.failedEventRows;
        if (attributes.hasAttribute(u"data-field"_s)) {
            const QString field = attributes.value(u"data-field"_s).toString();
            const QString value = attributes.value(u"data-value"_s).toString();
            const QString text = xml.readElementText(QXmlStreamReader::IncludeChildElements);
            r.texts.append(text);
            r.fields.insert(field, attributes.hasAttribute(u"data-value"_s) ? value : text);
        }
    }
    if (xml.hasError())
        r.error = u"line %1 column %2: %3"_s.arg(xml.lineNumber()).arg(xml.columnNumber()).arg(xml.errorString());
    return r;
}

} // namespace coupon::test
