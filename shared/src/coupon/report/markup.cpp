#include "coupon/report/markup.h"

using namespace Qt::StringLiterals;

namespace coupon {

QString htmlEscape(const QString &text)
{
    QString escaped = text.toHtmlEscaped();
    for (QChar &c : escaped) {
        if (c.unicode() < 0x20 && c != u'\t' && c != u'\n' && c != u'\r')
            c = QChar(0xFFFD);
        else if (c.unicode() == 0xFFFE || c.unicode() == 0xFFFF)
            c = QChar(0xFFFD);
    }
    return escaped;
}

QString fixedNumber(double value, int decimals)
{
    return QString::number(value, 'f', decimals);
}

} // namespace coupon
