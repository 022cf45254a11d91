#include "dialogs.h"

#include "coupon/base/stamp.h"

#include "coupon/base/validation.h"

#include <QCheckBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

QSpinBox *portBox(int value)
{
    auto *box = new QSpinBox;
    box->setRange(1, 65535);
    box->setValue(value);
    return box;
}

QLineEdit *passwordEdit(const QString &value)
{
    auto *edit = new QLineEdit(value);
    edit->setEchoMode(QLineEdit::Password);
    edit->setPlaceholderText(QObject::tr("(none)"));
    return edit;
}

} // namespace

// --- SettingsDialog ----------------------------------------------------------------

SettingsDialog::SettingsDialog(const Settings &settings, const QStringList &gatewayUrls, QWidget *parent)
    : QDialog(parent)
    , m_base(settings)
{
    setWindowTitle(tr("Endpoints and credentials"));
    setObjectName(u"settingsDialog"_s);
    auto *layout = new QVBoxLayout(this);

    auto *redis = new QGroupBox(tr("Redis"));
    auto *redisForm = new QFormLayout(redis);
    redisForm->addRow(tr("Host"), m_redisHost = new QLineEdit(settings.redis.host));
    redisForm->addRow(tr("Port"), m_redisPort = portBox(settings.redis.port));
    redisForm->addRow(tr("Database"), m_redisDb = new QSpinBox);
    m_redisDb->setRange(0, 15);
    m_redisDb->setValue(settings.redis.database);
    redisForm->addRow(tr("Password"), m_redisPassword = passwordEdit(settings.redis.password));
    layout->addWidget(redis);

    auto *mysql = new QGroupBox(tr("MySQL"));
    auto *mysqlForm = new QFormLayout(mysql);
    mysqlForm->addRow(tr("Host"), m_mysqlHost = new QLineEdit(settings.mysql.host));
    mysqlForm->addRow(tr("Port"), m_mysqlPort = portBox(settings.mysql.port));
    mysqlForm->addRow(tr("Database"), m_mysqlDatabase = new QLineEdit(settings.mysql.database));
    mysqlForm->addRow(tr("User"), m_mysqlUser = new QLineEdit(settings.mysql.user));
    mysqlForm->addRow(tr("Password"), m_mysqlPassword = passwordEdit(settings.mysql.password));
    layout->addWidget(mysql);

    auto *kafka = new QGroupBox(tr("Kafka"));
    auto *kafkaForm = new QFormLayout(kafka);
    kafkaForm->addRow(tr("Bootstrap servers"), m_kafkaServers = new QLineEdit(settings.kafka.bootstrapServers()));
    kafkaForm->addRow(tr("Topic"), m_kafkaTopic = new QLineEdit(settings.kafka.topic));
    kafkaForm->addRow(tr("Worker group"), m_group = new QLineEdit(settings.worker.group));
    layout->addWidget(kafka);

    auto *gateways = new QGroupBox(tr("Gateways (one a line: base URL, then its admin URL for /readyz)"));
    auto *gatewayLayout = new QVBoxLayout(gateways);
    gatewayLayout->addWidget(m_gateways = new QPlainTextEdit(gatewayUrls.join(u'\n')));
    m_gateways->setMaximumHeight(70);
    layout->addWidget(gateways);

    layout->addWidget(m_remember = new QCheckBox(tr("Use these endpoints next time (passwords are never saved)")));
    m_remember->setChecked(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

Settings SettingsDialog::settings() const
{
    Settings s = m_base;
    s.redis.host = m_redisHost->text().trimmed();
    s.redis.port = quint16(m_redisPort->value());
    s.redis.database = m_redisDb->value();
    s.redis.password = m_redisPassword->text();
    s.mysql.host = m_mysqlHost->text().trimmed();
    s.mysql.port = quint16(m_mysqlPort->value());
    s.mysql.database = m_mysqlDatabase->text().trimmed();
    s.mysql.user = m_mysqlUser->text().trimmed();
    s.mysql.password = m_mysqlPassword->text();
    s.kafka.properties.insert(u"bootstrap.servers"_s, m_kafkaServers->text().trimmed());
    s.kafka.topic = m_kafkaTopic->text().trimmed();
    s.worker.group = m_group->text().trimmed();
    return s;
}

QStringList SettingsDialog::gatewayUrls() const
{
    QStringList urls;
    for (const QString &line : m_gateways->toPlainText().split(u'\n', Qt::SkipEmptyParts)) {
        if (!line.trimmed().isEmpty())
            urls << line.trimmed();
    }
    return urls;
}

bool SettingsDialog::remember() const
{
    return m_remember->isChecked();
}

void saveEndpoints(const Settings &s, const QStringList &gatewayUrls)
{
    QSettings q;
    q.beginGroup(u"endpoints"_s);
    q.setValue(u"redis.host"_s, s.redis.host);
    q.setValue(u"redis.port"_s, s.redis.port);
    q.setValue(u"redis.db"_s, s.redis.database);
    q.setValue(u"mysql.host"_s, s.mysql.host);
    q.setValue(u"mysql.port"_s, s.mysql.port);
    q.setValue(u"mysql.database"_s, s.mysql.database);
    q.setValue(u"mysql.user"_s, s.mysql.user);
    q.setValue(u"kafka.bootstrap.servers"_s, s.kafka.bootstrapServers());
    q.setValue(u"kafka.topic"_s, s.kafka.topic);
    q.setValue(u"worker.group"_s, s.worker.group);
    q.setValue(u"gateways"_s, gatewayUrls);
    q.endGroup();
}

void applySavedEndpoints(Settings &s)
{
    QSettings q;
    if (!q.childGroups().contains(u"endpoints"_s))
        return;
    q.beginGroup(u"endpoints"_s);
    s.redis.host = q.value(u"redis.host"_s, s.redis.host).toString();
    s.redis.port = quint16(q.value(u"redis.port"_s, s.redis.port).toUInt());
    s.redis.database = q.value(u"redis.db"_s, s.redis.database).toInt();
    s.mysql.host = q.value(u"mysql.host"_s, s.mysql.host).toString();
    s.mysql.port = quint16(q.value(u"mysql.port"_s, s.mysql.port).toUInt());
    s.mysql.database = q.value(u"mysql.database"_s, s.mysql.database).toString();
    s.mysql.user = q.value(u"mysql.user"_s, s.mysql.user).toString();
    s.kafka.properties.insert(u"bootstrap.servers"_s,
                              q.value(u"kafka.bootstrap.servers"_s, s.kafka.bootstrapServers()).toString());
    s.kafka.topic = q.value(u"kafka.topic"_s, s.kafka.topic).toString();
    s.worker.group = q.value(u"worker.group"_s, s.worker.group).toString();
    q.endGroup();
}

QStringList savedGatewayUrls(const Settings &s)
{
    const QString fallback = u"http://%1:%2 http://%3:%4"_s.arg(s.gateway.listenHost)
                                 .arg(s.gateway.listenPort)
                                 .arg(s.gateway.adminHost)
                                 .arg(s.gateway.adminPort);
    return QSettings().value(u"endpoints/gateways"_s, QStringList{fallback}).toStringList();
}

// --- CampaignDialog -------------------------------------------------------------------

CampaignDialog::CampaignDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("New campaign"));
    setObjectName(u"campaignDialog"_s);
    auto *form = new QFormLayout(this);
    form->addRow(tr("Id"), m_id = new QLineEdit);
    m_id->setValidator(new QRegularExpressionValidator(QRegularExpression(campaignIdPattern()), m_id));
    m_id->setPlaceholderText(tr("spring-drop"));
    form->addRow(tr("Name"), m_name = new QLineEdit);
    form->addRow(tr("Limit"), m_limit = new QSpinBox);
    m_limit->setRange(0, std::numeric_limits<int>::max());
    m_limit->setValue(100);
    m_limit->setGroupSeparatorShown(true);
    form->addRow(m_window = new QCheckBox(tr("Only within a window")));
    const QDateTime now = QDateTime::currentDateTime();
    form->addRow(tr("Starts"), m_starts = new QDateTimeEdit(now));
    form->addRow(tr("Ends"), m_ends = new QDateTimeEdit(now.addDays(1)));
    for (QDateTimeEdit *edit : {m_starts, m_ends}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(u"yyyy-MM-dd HH:mm"_s);
        edit->setEnabled(false);
        connect(m_window, &QCheckBox::toggled, edit, &QWidget::setEnabled);
    }
    form->addRow(m_open = new QCheckBox(tr("Open it now")));
    m_open->setChecked(true);
    form->addRow(m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_id, &QLineEdit::textChanged, this, &CampaignDialog::validate);
    connect(m_window, &QCheckBox::toggled, this, &CampaignDialog::validate);
    connect(m_starts, &QDateTimeEdit::dateTimeChanged, this, &CampaignDialog::validate);
    connect(m_ends, &QDateTimeEdit::dateTimeChanged, this, &CampaignDialog::validate);
    validate();
}

void CampaignDialog::validate()
{
    const bool windowOk = !m_window->isChecked() || m_ends->dateTime() > m_starts->dateTime();
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(isValidCampaignId(m_id->text()) && windowOk);
}

Campaign CampaignDialog::campaign() const
{
    Campaign c;
    c.id = m_id->text();
    c.name = m_name->text().trimmed();
    c.limit = m_limit->value();
    if (m_window->isChecked()) {
        c.startsAt = m_starts->dateTime();
        c.endsAt = m_ends->dateTime();
    }
    return c;
}

bool CampaignDialog::openNow() const
{
    return m_open->isChecked();
}

// --- ResetDialog ---------------------------------------------------------------------------

ResetDialog::ResetDialog(const QString &campaign, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Reset %1").arg(campaign));
    setObjectName(u"resetDialog"_s);
    auto *layout = new QVBoxLayout(this);
    auto *text = new QLabel(tr("Reset waits for the topic to drain, then <b>deletes every coupon and failed event</b> "
                               "of <b>%1</b> and starts its counter from 0.<br><br>Type the campaign id to confirm:")
                                .arg(campaign.toHtmlEscaped()));
    text->setWordWrap(true);
    layout->addWidget(text);
    layout->addWidget(m_confirm = new QLineEdit);
    m_confirm->setPlaceholderText(campaign);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QPushButton *ok = buttons->button(QDialogButtonBox::Ok);
    ok->setText(tr("Reset"));
    ok->setEnabled(false);
    connect(m_confirm, &QLineEdit::textChanged, ok,
            [ok, campaign](const QString &typed) { ok->setEnabled(typed == campaign); });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

// --- ResolveDialog and RetryDialog -------------------------------------------------------

QString operatorName()
{
    return loginName();
}

namespace {

QLabel *failedEventSummary(const FailedEventRow &row)
{
    auto *label = new QLabel(QObject::tr("Failed event <b>%1</b> (%2), partition %3 offset %4<br>"
                                         "key <tt>%5</tt><br>value <tt>%6</tt>")
                                 .arg(row.id)
                                 .arg(row.reason.toHtmlEscaped())
                                 .arg(row.partition)
                                 .arg(row.offset)
                                 .arg(safeBytes(row.key).toHtmlEscaped(), safeBytes(row.value).toHtmlEscaped()));
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

ResolveDialog::ResolveDialog(const FailedEventRow &row, const QString &who, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Resolve failed event %1").arg(row.id));
    setObjectName(u"resolveDialog"_s);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(failedEventSummary(row));
    auto *form = new QFormLayout;
    form->addRow(tr("Resolved by"), m_by = new QLineEdit(who));
    form->addRow(tr("Why"), m_reason = new QLineEdit);
    m_by->setMaxLength(200);
    m_reason->setMaxLength(1000);
    m_reason->setPlaceholderText(tr("e.g. test message; the user was served by hand"));
    layout->addLayout(form);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QPushButton *ok = buttons->button(QDialogButtonBox::Ok);
    ok->setText(tr("Resolve"));
    const auto validate = [this, ok] {
        ok->setEnabled(!m_by->text().trimmed().isEmpty() && !m_reason->text().trimmed().isEmpty());
    };
    connect(m_by, &QLineEdit::textChanged, this, validate);
    connect(m_reason, &QLineEdit::textChanged, this, validate);
    validate();
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

QString ResolveDialog::by() const
{
    return m_by->text().trimmed();
}

QString ResolveDialog::reason() const
{
    return m_reason->text().trimmed();
}

RetryDialog::RetryDialog(const FailedEventRow &row, const QString &who, QWidget *parent)
    : QDialog(parent)
    , m_row(row)
{
    setWindowTitle(tr("Retry failed event %1").arg(row.id));
    setObjectName(u"retryDialog"_s);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(failedEventSummary(row));
    const Result<RetryTarget> original = originalTarget(row);
    m_originalUsable = original.ok();
    auto *named = new QLabel(
        m_originalUsable
            ? tr("Its bytes name <b>%1</b>, user <b>%2</b>. The retry applies through Redis and the topic like any "
                 "apply: a user who holds a coupon gets <i>duplicate</i>, a full campaign <i>sold out</i>.")
                  .arg(original->campaign.toHtmlEscaped())
                  .arg(original->userId)
            : original.error().message.toHtmlEscaped());
    named->setWordWrap(true);
    layout->addWidget(named);
    auto *form = new QFormLayout;
    form->addRow(tr("Retried by"), m_by = new QLineEdit(who));
    m_by->setMaxLength(200);
    layout->addLayout(form);

    m_correct = new QCheckBox(tr("Apply for a corrected campaign and user instead"));
    m_correct->setChecked(!m_originalUsable);
    m_correct->setEnabled(m_originalUsable);
    layout->addWidget(m_correct);
    auto *corrected = new QFormLayout;
    corrected->addRow(tr("Campaign"), m_campaign = new QLineEdit(m_originalUsable ? original->campaign : row.campaign));
    corrected->addRow(tr("User"),
                      m_user = new QLineEdit(m_originalUsable ? QString::number(original->userId) : QString()));
    corrected->addRow(m_phrase = new QLabel);
    corrected->addRow(tr("Confirm"), m_confirm = new QLineEdit);
    m_campaign->setObjectName(u"retryCampaign"_s);
    m_user->setObjectName(u"retryUser"_s);
    m_confirm->setObjectName(u"retryConfirm"_s);
    layout->addLayout(corrected);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(tr("Retry"));
    for (QLineEdit *edit : {m_by, m_campaign, m_user, m_confirm})
        connect(edit, &QLineEdit::textChanged, this, &RetryDialog::validate);
    connect(m_correct, &QCheckBox::toggled, this, &RetryDialog::validate);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    validate();
}

std::optional<RetryTarget> RetryDialog::correction() const
{
    const std::optional<qint64> user = parseUserId(m_user->text().trimmed());
    const QString campaign = m_campaign->text().trimmed();
    if (!user || !isValidCampaignId(campaign))
        return std::nullopt;
    return RetryTarget{campaign, *user, true};
}

void RetryDialog::validate()
{
    const bool correcting = m_correct->isChecked();
    for (QWidget *w :
         {static_cast<QWidget *>(m_campaign), static_cast<QWidget *>(m_user), static_cast<QWidget *>(m_confirm)})
        w->setEnabled(correcting);
    const std::optional<RetryTarget> target = correction();
    const QString phrase = target ? correctionConfirmation(m_row.id, target->campaign, target->userId) : QString();
    m_phrase->setText(!correcting  ? QString()
                          : target ? tr("Type <b>%1</b> to confirm:").arg(phrase.toHtmlEscaped())
                                   : tr("A campaign id and a user id (1..2^63-1), please."));
    const bool named = !m_by->text().trimmed().isEmpty();
    m_ok->setEnabled(named && (correcting ? target && m_confirm->text() == phrase : m_originalUsable));
}

FailedEventRetry RetryDialog::retry() const
{
    FailedEventRetry r;
    r.id = m_row.id;
    r.by = m_by->text().trimmed();
    if (m_correct->isChecked()) {
        r.correction = correction();
        r.confirmation = m_confirm->text();
    }
    return r;
}

} // namespace coupon::console
