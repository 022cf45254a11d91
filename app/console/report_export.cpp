#include "report_export.h"

#include "coupon/report/report_chart.h"
#include "coupon/report/report_html.h"
#include "coupon/service/campaigns.h"
#include "coupon/version.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPainter>
#include <QPdfWriter>
#include <QPushButton>
#include <QSaveFile>
#include <QTextDocument>
#include <QVBoxLayout>

#include <memory>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

Error reportError(const QString &text)
{
    return Error(Errc::RunHistory, text);
}

// Every chart of the report, drawn at twice its layout size (sharp in a PDF).
void addChartImages(QTextDocument &doc, const DropReport &report)
{
    if (!report.run)
        return;
    for (const Chart &chart : timelineCharts(*report.run))
        doc.addResource(QTextDocument::ImageResource, QUrl(chartImageUrl(chart.id)),
                        chartImage(chart, kReportChartSize, 2));
}

} // namespace

QImage chartImage(const Chart &chart, QSizeF size, qreal scale)
{
    const ChartLayout l = layoutChart(chart, size);
    QImage image((size * scale).toSize(), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(scale, scale);
    QFont font = p.font();
    font.setPixelSize(11);
    p.setFont(font);
    const QRectF &plot = l.plot;
    p.setPen(QColor(u"#9e9e9e"_s));
    p.setBrush(QColor(u"#fafafa"_s));
    p.drawRect(plot);
    if (!l.emptyText.isEmpty()) {
        p.setPen(QColor(u"#757575"_s));
        p.drawText(plot, Qt::AlignCenter, l.emptyText);
        return image;
    }
    // The same positions as chartSvg: a tick label's baseline 14 px below
    // the axis, the y labels right-aligned 4 px left of it.
    const QFontMetricsF metrics(font);
    for (const ChartTick &t : l.xTicks) {
        p.setPen(QColor(u"#e0e0e0"_s));
        p.drawLine(QPointF(t.at, plot.top()), QPointF(t.at, plot.bottom()));
        p.setPen(Qt::black);
        p.drawText(QPointF(t.at - metrics.horizontalAdvance(t.label) / 2, plot.bottom() + 14), t.label);
    }
    for (const ChartTick &t : l.yTicks) {
        p.setPen(QColor(u"#e0e0e0"_s));
        p.drawLine(QPointF(plot.left(), t.at), QPointF(plot.right(), t.at));
        p.setPen(Qt::black);
        p.drawText(QPointF(plot.left() - 4 - metrics.horizontalAdvance(t.label), t.at + 4), t.label);
    }
    p.drawText(QPointF(plot.center().x() - metrics.horizontalAdvance(l.xLabel) / 2, plot.bottom() + 28), l.xLabel);
    p.save();
    p.translate(12, plot.center().y());
    p.rotate(-90);
    p.drawText(QPointF(-metrics.horizontalAdvance(l.yLabel) / 2, 0), l.yLabel);
    p.restore();
    for (const ChartLine &line : l.lines) {
        const QColor color(line.color);
        p.setPen(QPen(color, 1.5));
        p.setBrush(Qt::NoBrush);
        p.drawPolyline(line.points.constData(), int(line.points.size()));
        if (line.points.size() == 1) {
            p.setBrush(color);
            p.drawEllipse(line.points.first(), 3, 3);
        }
        p.fillRect(QRectF(line.legend, QSizeF(10, 10)), color);
        p.setPen(Qt::black);
        p.drawText(line.legend + QPointF(14, 9), line.name);
    }
    return image;
}

namespace {

// A4 with 12 mm margins, in the document's pixels (96 dpi, as QTextDocument::print lays out).
constexpr qreal kPageWidthPx = 210 / 25.4 * 96, kPageHeightPx = 297 / 25.4 * 96, kMarginPx = 12 / 25.4 * 96;

} // namespace

std::unique_ptr<QTextDocument> reportDocument(const DropReport &report)
{
    auto doc = std::make_unique<QTextDocument>();
    addChartImages(*doc, report);
    doc->setHtml(renderReportHtml(report, ChartMarkup::ImageResources));
    return doc;
}

Status writeReportPdf(const DropReport &report, const QString &path)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return reportError(QObject::tr("cannot write %1: %2").arg(path, file.errorString()));
    const std::unique_ptr<QTextDocument> doc = reportDocument(report);
    {
        QPdfWriter writer(&file);
        writer.setPageSize(QPageSize(QPageSize::A4));
        writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout::Millimeter);
        writer.setTitle(u"Drop report: "_s + report.campaign);
        writer.setCreator(u"coupon-console "_s + QString::fromLatin1(kVersion));
        doc->print(&writer);
    }
    if (!file.commit())
        return reportError(QObject::tr("cannot write %1: %2").arg(path, file.errorString()));
    return Ok{};
}

QImage reportPageImage(const DropReport &report, int page, int width)
{
    const std::unique_ptr<QTextDocument> doc = reportDocument(report);
    const QSizeF body(kPageWidthPx - 2 * kMarginPx, kPageHeightPx - 2 * kMarginPx);
    doc->setPageSize(body);
    const qreal scale = width / kPageWidthPx;
    QImage image(QSize(width, int(kPageHeightPx * scale)), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(scale, scale);
    p.translate(kMarginPx, kMarginPx - page * body.height());
    doc->drawContents(&p, QRectF(QPointF(0, page * body.height()), body));
    return image;
}

// --- ReportWorker --------------------------------------------------------------------------

ReportWorker::ReportWorker(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{ }

ReportWorker::~ReportWorker() = default;

void ReportWorker::exportReport(const ReportRequest &request)
{
    const Status st = write(request);
    emit reportExported(request.path, st ? QString() : st.error().message);
}

Status ReportWorker::write(const ReportRequest &request)
{
    std::optional<RunRecord> run;
    if (!request.runId.isEmpty()) {
        Result<RunRecord> loaded = RunHistory().load(request.runId);
        if (!loaded)
            return loaded.error();
        run = std::move(loaded).value();
    }
    if (!m_ops)
        m_ops = std::make_unique<CampaignOps>(m_settings, u"coupon-console-report"_s);
    if (!m_connected) {
        if (Status st = m_ops->connect(); !st)
            return st;
        m_connected = true;
    }
    Result<DropReport> report = gatherDropReport(*m_ops, request.campaign, request.auditTimeoutMs, std::move(run),
                                                 ReportStamp::now(request.by, u"coupon-console"_s));
    if (!report) {
        // Connect afresh next time: the failure may have been the connection's.
        m_connected = false;
        return report.error();
    }
    switch (request.format) {
    case ReportRequest::Format::Html: return writeReportHtml(*report, request.path);
    case ReportRequest::Format::Pdf: return writeReportPdf(*report, request.path);
    case ReportRequest::Format::PagePng: {
        // Pages 1 and 2 side by side: the figures, then the timeline.
        const QImage first = reportPageImage(*report, 0, 900), second = reportPageImage(*report, 1, 900);
        QImage both(QSize(first.width() * 2 + 20, first.height()), QImage::Format_ARGB32_Premultiplied);
        both.fill(QColor(u"#9e9e9e"_s));
        QPainter p(&both);
        p.drawImage(0, 0, first);
        p.drawImage(first.width() + 20, 0, second);
        p.end();
        if (!both.save(request.path, "PNG"))
            return reportError(QObject::tr("cannot write %1").arg(request.path));
        return Ok{};
    }
    }
    return Ok{};
}

// --- ReportDialog --------------------------------------------------------------------------

ReportDialog::ReportDialog(const QString &campaign, const QList<RunRecord> &runs, const QString &folder,
                           QWidget *parent)
    : QDialog(parent)
    , m_campaign(campaign)
    , m_subject(new QComboBox)
    , m_format(new QComboBox)
    , m_path(new QLineEdit)
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel))
{
    setObjectName(u"reportDialog"_s);
    setWindowTitle(tr("Export report"));
    m_subject->setObjectName(u"reportSubject"_s);
    m_format->setObjectName(u"reportFormat"_s);
    m_path->setObjectName(u"reportPath"_s);

    m_subject->addItem(tr("%1 as it stands (no run)").arg(campaign), QString());
    for (const RunRecord &run : runs) {
        const QString started
            = QDateTime::fromMSecsSinceEpoch(run.startedAtMs).toString(QLocale().dateTimeFormat(QLocale::ShortFormat));
        m_subject->addItem(tr("Run of %1: %2 users, %3 accepted, by %4 with %5")
                               .arg(started)
                               .arg(run.users)
                               .arg(run.count(ApplyOutcome::Accepted))
                               .arg(run.operatorName, run.tool),
                           run.id);
    }
    // The newest run is what "how did it go?" is about.
    m_subject->setCurrentIndex(runs.isEmpty() ? 0 : 1);
    m_format->addItem(tr("HTML (one self-contained file)"), u"html"_s);
    m_format->addItem(tr("PDF"), u"pdf"_s);
    m_path->setText(QDir(folder).filePath(u"drop-report-%1.html"_s.arg(campaign)));

    auto *browse = new QPushButton(tr("Browse…"));
    browse->setObjectName(u"reportBrowse"_s);
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    auto *form = new QFormLayout;
    form->addRow(tr("Report on"), m_subject);
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("File"), pathRow);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_buttons);

    connect(m_format, &QComboBox::currentIndexChanged, this, &ReportDialog::formatChanged);
    connect(browse, &QPushButton::clicked, this, &ReportDialog::browse);
    connect(m_path, &QLineEdit::textChanged, this, [this](const QString &path) {
        m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!path.trimmed().isEmpty());
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void ReportDialog::formatChanged()
{
    // Keep the file's suffix in step with the format.
    const QString suffix = m_format->currentData().toString();
    const QFileInfo info(m_path->text());
    if (!m_path->text().isEmpty())
        m_path->setText(info.dir().filePath(info.completeBaseName() + u'.' + suffix));
}

void ReportDialog::browse()
{
    const QString suffix = m_format->currentData().toString();
    const QString path = QFileDialog::getSaveFileName(this, tr("Export report"), m_path->text(),
                                                      suffix == u"pdf"_s ? tr("PDF (*.pdf)") : tr("HTML (*.html)"));
    if (!path.isEmpty())
        m_path->setText(path);
}

ReportRequest ReportDialog::request() const
{
    ReportRequest r;
    r.campaign = m_campaign;
    r.runId = m_subject->currentData().toString();
    r.format = m_format->currentData().toString() == u"pdf"_s ? ReportRequest::Format::Pdf
                                                              : ReportRequest::Format::Html;
    r.path = m_path->text().trimmed();
    return r;
}

} // namespace coupon::console
