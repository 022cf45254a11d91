#include "widgets.h"

#include <QChart>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QFontMetricsF>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QPainter>
#include <QPen>
#include <QValueAxis>

#include <array>
#include <cmath>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

const QColor kGreen(0x2e, 0x7d, 0x32);
const QColor kRed(0xc6, 0x28, 0x28);
const QColor kAmber(0xef, 0x8f, 0x00);
const QColor kGrey(0x75, 0x75, 0x75);

} // namespace

double niceCeiling(double value)
{
    const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(value, 1.0))));
    for (const double step : {1.0, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
        if (step * magnitude >= value)
            return step * magnitude;
    }
    return 10 * magnitude;
}

QString compactCount(qint64 n)
{
    const QLocale locale;
    if (n > -10'000 && n < 10'000)
        return locale.toString(n);
    // One decimal, cut rather than rounded: a count one short of a
    // million reads 999.9k, never the 1.0M of a full campaign.
    struct Unit
    {
        qint64 size;
        QStringView suffix;
    };
    static constexpr std::array<Unit, 4> kUnits{
        {{1'000'000'000'000, u"T"}, {1'000'000'000, u"B"}, {1'000'000, u"M"}, {1'000, u"k"}}};
    const quint64 magnitude = n < 0 ? quint64(-(n + 1)) + 1 : quint64(n);
    for (const Unit &unit : kUnits) {
        if (magnitude < quint64(unit.size))
            continue;
        const quint64 tenths = magnitude / quint64(unit.size / 10);
        return (n < 0 ? locale.negativeSign() : QString())
            .append(locale.toString(tenths / 10))
            .append(locale.decimalPoint())
            .append(QString::number(tenths % 10))
            .append(unit.suffix);
    }
    return locale.toString(n);
}

// --- ServiceBar ----------------------------------------------------------------

ServiceBar::ServiceBar(QWidget *parent)
    : QWidget(parent)
    , m_layout(new QHBoxLayout(this))
{
    m_layout->setContentsMargins(4, 2, 4, 2);
    m_layout->setSpacing(6);
    m_layout->addStretch(1);
    setObjectName(u"serviceBar"_s);
}

QLabel *ServiceBar::ensureChip(const QString &key)
{
    if (QLabel *chip = m_chips.value(key))
        return chip;
    auto *chip = new QLabel(this);
    chip->setObjectName(u"service-"_s + key);
    chip->setTextFormat(Qt::RichText);
    m_layout->insertWidget(m_layout->count() - 1, chip);
    m_chips.insert(key, chip);
    return chip;
}

void ServiceBar::setState(const ServiceState &state)
{
    m_states.insert(state.key, state);
    render(state);
    QStringList problems;
    for (const ServiceState &s : std::as_const(m_states)) {
        if (s.health == ServiceState::Down)
            problems << u"%1 %2: %3"_s.arg(s.name, s.endpoint, s.detail);
    }
    problems.sort();
    emit problemsChanged(problems.join(u" · "_s));
}

void ServiceBar::clearGateways()
{
    for (auto it = m_chips.begin(); it != m_chips.end();) {
        if (it.key().startsWith(u"gateway:"_s)) {
            delete it.value();
            m_states.remove(it.key());
            it = m_chips.erase(it);
        } else {
            ++it;
        }
    }
}

void ServiceBar::render(const ServiceState &s)
{
    QLabel *chip = ensureChip(s.key);
    const QColor color = s.health == ServiceState::Up ? kGreen : s.health == ServiceState::Down ? kRed : kGrey;
    const QString mark = s.health == ServiceState::Up ? u"●"_s : s.health == ServiceState::Down ? u"✖"_s : u"○"_s;
    chip->setText(u"<span style='color:%1'>%2</span>&nbsp;<b>%3</b>&nbsp;<span style='color:#555'>%4</span>"_s.arg(
        color.name(), mark, s.name.toHtmlEscaped(), s.endpoint.toHtmlEscaped()));
    const QString background = s.health == ServiceState::Down ? u"#fdecea"_s
        : s.health == ServiceState::Up                        ? u"#edf7ee"_s
                                                              : u"#f1f1f1"_s;
    chip->setStyleSheet(u"QLabel { background: %1; border: 1px solid %2; border-radius: 9px; padding: 2px 8px; }"_s.arg(
        background, color.name()));
    QString tip = u"<b>%1</b> %2<br>%3"_s.arg(s.name.toHtmlEscaped(), s.endpoint.toHtmlEscaped(),
                                              s.health == ServiceState::Up         ? tr("up")
                                                  : s.health == ServiceState::Down ? tr("down")
                                                                                   : tr("unknown"));
    if (!s.detail.isEmpty())
        tip += u": "_s + s.detail.toHtmlEscaped();
    if (!s.lastError.isEmpty())
        tip += u"<br>"_s + tr("Last error: %1").arg(s.lastError.toHtmlEscaped());
    if (s.changedAtMs > 0)
        tip += u"<br>"_s + tr("Since %1").arg(QDateTime::fromMSecsSinceEpoch(s.changedAtMs).toString(u"HH:mm:ss"_s));
    chip->setToolTip(tip);
    chip->setProperty("health", int(s.health));
}

// --- CounterGauge ----------------------------------------------------------------

CounterGauge::CounterGauge(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(u"counterGauge"_s);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Expanding);
}

void CounterGauge::setValues(qint64 count, qint64 limit, bool known)
{
    if (m_count == count && m_limit == limit && m_known == known)
        return;
    m_count = count;
    m_limit = limit;
    m_known = known;
    setAccessibleDescription(text());
    // The face may print 1.2M: the exact figures are a hover away.
    setToolTip(known ? tr("%1 of %2 reserved").arg(QLocale().toString(count), QLocale().toString(limit)) : QString());
    update();
}

QString CounterGauge::text() const
{
    return m_known ? u"%1/%2"_s.arg(m_count).arg(m_limit) : u"-/-"_s;
}

CounterGauge::Face CounterGauge::face() const
{
    Face f;
    const double side = std::min(width(), height()) - 12;
    f.arc = QRectF((width() - side) / 2.0, (height() - side) / 2.0 + 6, side, side);
    f.thickness = std::max(8, int(side) / 11);
    const QRectF center = f.arc.adjusted(f.thickness, f.thickness, -f.thickness, -f.thickness);

    f.value = m_known ? compactCount(m_count) : u"–"_s;
    f.valueFont = font();
    f.valueFont.setPointSizeF(std::max(10.0, side / 7.5));
    f.valueFont.setBold(true);
    f.valueRect = center.adjusted(0, -side / 10.0, 0, -side / 10.0);

    f.limit = m_known ? tr("of %1").arg(compactCount(m_limit)) : tr("no campaign");
    f.limitFont = font();
    f.limitFont.setPointSizeF(std::max(8.0, side / 15.0));
    f.limitRect = center.adjusted(0, side / 5.5, 0, side / 5.5);

    // Whatever the font and the size, the text stays inside the ring's inner
    // edge: a smaller font where the compact form alone is not enough.
    const QPointF middle = f.arc.center();
    const double inner = side / 2 - f.thickness / 2 - 1;
    const auto shrinkToFit = [&](const QString &text, QFont &font, const QRectF &rect) {
        for (int step = 0; step < 20 && font.pointSizeF() > 4; ++step) {
            const QFontMetricsF metrics(font);
            const double halfWidth = metrics.horizontalAdvance(text) / 2;
            const double reach = std::max(std::abs(rect.center().y() - metrics.height() / 2 - middle.y()),
                                          std::abs(rect.center().y() + metrics.height() / 2 - middle.y()));
            if (std::hypot(halfWidth, reach) <= inner)
                return;
            font.setPointSizeF(font.pointSizeF() * 0.9);
        }
    };
    shrinkToFit(f.value, f.valueFont, f.valueRect);
    shrinkToFit(f.limit, f.limitFont, f.limitRect);
    return f;
}

void CounterGauge::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const Face f = face();
    const double side = f.arc.width();
    const double fraction = m_known && m_limit > 0 ? std::clamp(double(m_count) / double(m_limit), 0.0, 1.0) : 0.0;

    QPen track(palette().color(QPalette::Mid), f.thickness, Qt::SolidLine, Qt::RoundCap);
    track.setColor(QColor(0xe3, 0xe6, 0xea));
    p.setPen(track);
    constexpr int kStart = 225 * 16, kSpan = -270 * 16;
    p.drawArc(f.arc, kStart, kSpan);
    if (fraction > 0) {
        const QColor color = fraction >= 1.0 ? QColor(0x15, 0x65, 0xc0) : fraction > 0.8 ? kAmber : kGreen;
        QPen value(color, f.thickness, Qt::SolidLine, Qt::RoundCap);
        p.setPen(value);
        p.drawArc(f.arc, kStart, int(kSpan * fraction));
    }

    p.setPen(palette().color(QPalette::WindowText));
    p.setFont(f.valueFont);
    p.drawText(f.valueRect, Qt::AlignCenter, f.value);
    p.setFont(f.limitFont);
    p.setPen(kGrey);
    p.drawText(f.limitRect, Qt::AlignCenter, f.limit);
    if (m_known && m_count >= m_limit && m_limit > 0) {
        p.setPen(QColor(0x15, 0x65, 0xc0));
        p.drawText(QRectF(f.arc.left(), f.arc.bottom() - side / 7.0, f.arc.width(), side / 7.0), Qt::AlignCenter,
                   tr("SOLD OUT"));
    }
}

// --- StatusBadge ------------------------------------------------------------------

StatusBadge::StatusBadge(QWidget *parent)
    : QLabel(parent)
{
    setObjectName(u"lagStatus"_s);
    setAlignment(Qt::AlignCenter);
    setMinimumWidth(72);
    setStatus(LagStatus::Unknown);
}

void StatusBadge::setStatus(LagStatus status)
{
    m_status = status;
    QColor color = kGrey;
    switch (status) {
    case LagStatus::Ok: color = kGreen; break;
    case LagStatus::Warn: color = kAmber; break;
    case LagStatus::Stall:
    case LagStatus::Stop: color = kRed; break;
    case LagStatus::Unknown: break;
    }
    setText(toString(status));
    setStyleSheet(
        u"QLabel { background: %1; color: white; font-weight: bold; border-radius: 9px; padding: 2px 10px; }"_s.arg(
            color.name()));
    switch (status) {
    case LagStatus::Ok: setToolTip(tr("Lag is 0 or being worked off.")); break;
    case LagStatus::Warn: setToolTip(tr("The group commits, but the lag grew at every recent sample.")); break;
    case LagStatus::Stall:
        setToolTip(tr("Members are there, the lag is above 0, and the committed offsets stopped moving."));
        break;
    case LagStatus::Stop: setToolTip(tr("The lag is above 0 and no member is left in the group to commit.")); break;
    case LagStatus::Unknown: setToolTip(tr("No answer from Kafka yet.")); break;
    }
}

// --- VerdictLabel ----------------------------------------------------------------

VerdictLabel::VerdictLabel(QWidget *parent)
    : QLabel(parent)
{
    setObjectName(u"verdictLabel"_s);
    setWordWrap(true);
    setMinimumHeight(48);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
}

void VerdictLabel::setVerdict(const QString &text, const QString &tone)
{
    QString style = u"QLabel { border-radius: 6px; padding: 6px; font-weight: bold; "_s;
    if (tone == u"good"_s)
        style += u"background: #e8f5e9; color: #1b5e20; border: 1px solid #66bb6a; }"_s;
    else if (tone == u"bad"_s)
        style += u"background: #fdecea; color: #b71c1c; border: 1px solid #e57373; }"_s;
    else if (tone == u"busy"_s)
        style += u"background: #fff8e1; color: #6d4c00; border: 1px solid #ffca28; }"_s;
    else
        style += u"background: #f3f4f6; color: #37474f; border: 1px solid #cfd8dc; font-weight: normal; }"_s;
    setStyleSheet(style);
    setText(text);
    setProperty("tone", tone);
}

// --- TimeChart ------------------------------------------------------------------------

TimeChart::TimeChart(const QString &title, const QColor &color, QWidget *parent)
    // The view gets its chart at construction: QChartView(parent) would make a
    // default chart that setChart() later releases without deleting (a leak).
    : QChartView(new QChart, parent)
    , m_series(new QLineSeries)
    , m_ceiling(new QLineSeries)
    , m_x(new QDateTimeAxis)
    , m_y(new QValueAxis)
{
    QChart *chart = this->chart();
    chart->setTitle(title);
    chart->legend()->hide();
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setBackgroundRoundness(4);
    QFont titleFont = chart->titleFont();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 0.9);
    chart->setTitleFont(titleFont);
    QPen pen(color, 2);
    m_series->setPen(pen);
    QPen dashed(QColor(0x90, 0x90, 0x90), 1, Qt::DashLine);
    m_ceiling->setPen(dashed);
    chart->addSeries(m_series);
    chart->addSeries(m_ceiling);
    m_x->setFormat(u"HH:mm:ss"_s);
    m_x->setTickCount(4);
    m_y->setLabelFormat(u"%.0f"_s);
    m_y->setTickCount(5);
    m_y->setRange(0, 10);
    QFont axisFont = m_x->labelsFont();
    axisFont.setPointSizeF(axisFont.pointSizeF() * 0.85);
    m_x->setLabelsFont(axisFont);
    m_y->setLabelsFont(axisFont);
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    for (QLineSeries *s : {m_series, m_ceiling}) {
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(150);
    rescale(QDateTime::currentMSecsSinceEpoch());
}

void TimeChart::addPoint(qint64 atMs, double value)
{
    m_last = value;
    m_series->append(double(atMs), value);
    int stale = 0;
    while (stale < m_series->count() && m_series->at(stale).x() < double(atMs - kWindowMs))
        ++stale;
    if (stale > 0)
        m_series->removePoints(0, stale);
    rescale(atMs);
}

void TimeChart::setCeiling(double value)
{
    m_ceilingValue = value;
    rescale(QDateTime::currentMSecsSinceEpoch());
}

void TimeChart::clear()
{
    m_series->clear();
    m_last = 0;
    rescale(QDateTime::currentMSecsSinceEpoch());
}

int TimeChart::pointCount() const
{
    return int(m_series->count());
}

void TimeChart::rescale(qint64 nowMs)
{
    // The window is at least 20 s wide and ends at the newest point.
    const qint64 oldest = m_series->count() ? qint64(m_series->at(0).x()) : nowMs;
    const qint64 start = std::min(oldest, nowMs - 20'000);
    m_x->setRange(QDateTime::fromMSecsSinceEpoch(start), QDateTime::fromMSecsSinceEpoch(nowMs));
    double top = std::max(10.0, m_ceilingValue);
    for (const QPointF &point : m_series->points())
        top = std::max(top, point.y());
    m_y->setRange(0, niceCeiling(top * 1.05));
    m_ceiling->clear();
    if (m_ceilingValue >= 0) {
        m_ceiling->append(double(start), m_ceilingValue);
        m_ceiling->append(double(nowMs), m_ceilingValue);
    }
}

} // namespace coupon::console
