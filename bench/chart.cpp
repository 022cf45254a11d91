#include "chart.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QHorizontalBarSeries>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWidget>

using namespace Qt::StringLiterals;

namespace coupon::bench {

namespace {

// One horizontal bar chart: measured beside aim, for ratios picked by `pick`.
QChartView *chartOf(const QJsonArray &ratios, bool tutorial, const QString &title)
{
    auto *measured = new QBarSet(u"measured"_s);
    auto *aims = new QBarSet(u"aim"_s);
    QStringList labels;
    double top = tutorial ? 1 : 100;
    const double scale = tutorial ? 1 : 100; // "x times" against the tutorial, % against the limits
    for (const QJsonValueConstRef v : ratios) {
        const QJsonObject r = v.toObject();
        // Speed-ups (x times) go to the second chart: against the tutorial, and the memo on against off.
        const QString name = r[u"ratio"_s].toString();
        if ((name.contains(u"tutorial"_s) || name.contains(u"memo"_s)) != tutorial)
            continue;
        labels << r[u"ratio"_s].toString();
        *measured << r[u"value"_s].toDouble() * scale;
        *aims << r[u"aim"_s].toDouble() * scale;
        top = std::max({top, r[u"value"_s].toDouble() * scale, r[u"aim"_s].toDouble() * scale});
    }
    auto *series = new QHorizontalBarSeries;
    series->append(aims);
    series->append(measured);
    series->setLabelsVisible(true);
    series->setLabelsFormat(tutorial ? u"@value x"_s : u"@value %"_s);
    series->setLabelsPrecision(3);
    series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);

    auto *chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(title);
    auto *names = new QBarCategoryAxis;
    names->append(labels);
    chart->addAxis(names, Qt::AlignLeft);
    series->attachAxis(names);
    auto *axis = new QValueAxis;
    axis->setRange(0, top * 1.2);
    axis->setLabelFormat(tutorial ? u"%.0f x"_s : u"%.0f %%"_s);
    chart->addAxis(axis, Qt::AlignBottom);
    series->attachAxis(axis);
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto *view = new QChartView(chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(140 + 60 * int(labels.size()));
    return view;
}

} // namespace

QString renderChart(const QString &jsonPath, const QString &pngPath)
{
    QFile file(jsonPath);
    if (!file.open(QIODevice::ReadOnly))
        return u"cannot read "_s + jsonPath;
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    const QJsonArray ratios = root[u"ratios"_s].toArray();
    if (ratios.isEmpty())
        return u"no ratios in "_s + jsonPath;
    const QJsonObject machine = root[u"machine"_s].toObject();
    const QString where = u"%1 cores, %2, %3"_s.arg(machine[u"cpus"_s].toInt())
                              .arg(machine[u"cpu"_s].toString(), machine[u"date"_s].toString());
    QWidget page;
    auto *layout = new QVBoxLayout(&page);
    layout->addWidget(chartOf(ratios, false, u"Ours against the machine's limits (same run) — "_s + where));
    layout->addWidget(
        chartOf(ratios, true,
                u"Speed-ups (same run): against the tutorial's design (same campaign size), and the sold-out memo"_s));
    page.resize(1200, page.sizeHint().height() + 200);
    if (!page.grab().save(pngPath))
        return u"cannot write "_s + pngPath;
    return {};
}

} // namespace coupon::bench
