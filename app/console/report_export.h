#pragma once

// File → Export report…: the drop report (coupon/report/) of the current
// campaign, or of one of its runs in the run history, written as HTML or
// PDF. The audit in it waits for the drain, so the gathering and the
// writing run on a worker thread of their own (ReportWorker), which loads
// the run picked; the dialog lists the runs the Runs tab has read.

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/report/drop_report.h"
#include "coupon/report/report_chart.h"

#include <QDialog>
#include <QImage>
#include <QObject>

#include <memory>

class QComboBox;
class QDialogButtonBox;
class QLineEdit;
class QTextDocument;

namespace coupon {
class CampaignOps;
}

namespace coupon::console {

struct ReportRequest
{
    // PagePng: pages 1 and 2 as the PDF has them, for README's picture
    // (coupon-console --report-page, scripts/report-picture); not offered
    // in the dialog.
    enum class Format { Html, Pdf, PagePng };

    QString campaign;
    QString runId; // empty: the campaign as it stands, no run
    Format format = Format::Html;
    QString path;
    QString by; // who asks
    int auditTimeoutMs = 120'000;
};

// The report's chart drawn from the same layout as its SVG (layoutChart),
// at `scale` device pixels per layout pixel.
QImage chartImage(const Chart &chart, QSizeF size, qreal scale);
// The report as Qt's printing lays it out: the HTML with the charts as
// images, in a QTextDocument (QTextDocument::print paginates it).
std::unique_ptr<QTextDocument> reportDocument(const DropReport &report);
// The report as a PDF: reportDocument() printed on a QPdfWriter, A4.
Status writeReportPdf(const DropReport &report, const QString &path);
// Page `page` (0-based) of the report as the PDF has it, `width` pixels
// wide (a picture for README: scripts/report-picture).
QImage reportPageImage(const DropReport &report, int page, int width);

// Gathers and writes reports on its own thread, one CampaignOps of its own.
class ReportWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReportWorker)

public:
    explicit ReportWorker(const Settings &settings, QObject *parent = nullptr);
    ~ReportWorker() override;

    void exportReport(const coupon::console::ReportRequest &request);
    // The same, synchronously on the caller's thread.
    Status write(const ReportRequest &request);

signals:
    // `error` empty: written.
    void reportExported(const QString &path, const QString &error);

private:
    Settings m_settings;
    std::unique_ptr<CampaignOps> m_ops;
    bool m_connected = false;
};

// Campaign or run, HTML or PDF, where.
class ReportDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReportDialog)

public:
    // `runs`: the campaign's runs in the history, newest first.
    ReportDialog(const QString &campaign, const QList<RunRecord> &runs, const QString &folder,
                 QWidget *parent = nullptr);
    ReportRequest request() const;

private:
    void formatChanged();
    void browse();

    QString m_campaign;
    QComboBox *m_subject, *m_format;
    QLineEdit *m_path;
    QDialogButtonBox *m_buttons;
};

} // namespace coupon::console
