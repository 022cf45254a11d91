#pragma once

#include "types.h"

#include <QDialog>

class QCheckBox;
class QDateTimeEdit;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace coupon::console {

// Endpoints and credentials. Passwords are typed blind and never saved by
// the console (put them in the INI file or COUPON_* variables).
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    SettingsDialog(const Settings &settings, const QStringList &gatewayUrls, QWidget *parent = nullptr);

    Settings settings() const;
    QStringList gatewayUrls() const;
    bool remember() const;

private:
    Settings m_base;
    QLineEdit *m_redisHost, *m_redisPassword, *m_mysqlHost, *m_mysqlDatabase, *m_mysqlUser, *m_mysqlPassword,
        *m_kafkaServers, *m_kafkaTopic, *m_group;
    QSpinBox *m_redisPort, *m_redisDb, *m_mysqlPort;
    QPlainTextEdit *m_gateways;
    QCheckBox *m_remember;
};

// A new campaign: id, name, limit, optional window, open at once.
class CampaignDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CampaignDialog)

public:
    explicit CampaignDialog(QWidget *parent = nullptr);
    Campaign campaign() const;
    bool openNow() const;

private:
    void validate();

    QLineEdit *m_id, *m_name;
    QSpinBox *m_limit;
    QCheckBox *m_window, *m_open;
    QDateTimeEdit *m_starts, *m_ends;
    QDialogButtonBox *m_buttons;
};

// Reset asks for the campaign id typed out.
class ResetDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResetDialog)

public:
    ResetDialog(const QString &campaign, QWidget *parent = nullptr);

private:
    QLineEdit *m_confirm;
};

// Resolving a failed event asks who and why.
class ResolveDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResolveDialog)

public:
    ResolveDialog(const FailedEventRow &row, const QString &who, QWidget *parent = nullptr);
    QString by() const;
    QString reason() const;

private:
    QLineEdit *m_by, *m_reason;
};

// A retry applies what the bytes name; a corrected campaign and user apply
// only once "retry ID as C/U" is typed out.
class RetryDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RetryDialog)

public:
    RetryDialog(const FailedEventRow &row, const QString &who, QWidget *parent = nullptr);
    FailedEventRetry retry() const;

private:
    void validate();
    std::optional<RetryTarget> correction() const;

    FailedEventRow m_row;
    bool m_originalUsable = false;
    QLineEdit *m_by, *m_campaign, *m_user, *m_confirm;
    QCheckBox *m_correct;
    QLabel *m_phrase;
    QPushButton *m_ok;
};

// Who the operator is, for the rows they retry or resolve: loginName().
QString operatorName();

// Settings saved from the dialog apply when the console starts without an
// explicit configuration (no --config, no COUPON_CONFIG).
void saveEndpoints(const Settings &settings, const QStringList &gatewayUrls);
void applySavedEndpoints(Settings &settings);
QStringList savedGatewayUrls(const Settings &settings); // default: "<gateway.listen> <gateway.admin.listen>"

} // namespace coupon::console
