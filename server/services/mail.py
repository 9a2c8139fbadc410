"""Account mail (password-reset and verification codes) through the configured SMTP server.

Without SMTP_HOST nothing is sent: the message is written to the log at WARNING, so the
operator of a small server can pass the code on by hand (README "Accounts")."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    import smtplib

log = logging.getLogger(__name__)


class MailFailed(Exception):
    """The SMTP server refused or could not be reached."""


class Mailer:
    """Send one plain-text message, off the event loop."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def configured(self) -> bool:
        """Whether messages really leave the server."""
        return self._settings.smtp_host is not None

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send (or, with no SMTP server configured, log) a message."""
        if self._settings.smtp_host is None:
            log.warning("mail not sent (SMTP_HOST unset) to %s: %s\n%s", to, subject, body)
            return
        message = EmailMessage()
        message["From"] = self._settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        import smtplib  # only where mail really leaves: most servers never load it

        try:
            await asyncio.to_thread(self._deliver, message)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("mail to %s failed: %s", to, exc)
            raise MailFailed(str(exc)) from exc

    def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        assert settings.smtp_host is not None
        import smtplib

        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=15)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
