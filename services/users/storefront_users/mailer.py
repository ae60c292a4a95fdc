"""Outgoing mail over SMTP; without an SMTP host (local development) the mail goes to the log."""
from __future__ import annotations

import contextvars
import logging
import smtplib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

from .settings import Settings

logger = logging.getLogger("storefront.users.mailer")


class MailError(RuntimeError):
    """The mail could not be handed to the SMTP server."""


@dataclass
class Mail:
    to: str
    subject: str
    text: str


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One sender thread: mails handed over leave in order, and a slow SMTP server cannot pile up threads.
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")

    def send_in_background(self, mail: Mail) -> Future[None]:
        """Send without making the caller wait, so the response time does not tell whether a mail was sent."""
        context = contextvars.copy_context()  # keeps the request id on the log lines
        return self._background.submit(context.run, self._send_quietly, mail)

    def _send_quietly(self, mail: Mail) -> None:
        try:
            self.send(mail)
        except MailError:
            pass  # already logged by send()

    def send(self, mail: Mail) -> None:
        if not self.settings.smtp_host:
            self._log(mail)
            return
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        try:
            with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port,
                              timeout=self.settings.smtp_timeout_seconds) as smtp:
                if self.settings.smtp_starttls:
                    smtp.starttls()
                if self.settings.smtp_username:
                    smtp.login(self.settings.smtp_username, self.settings.smtp_password)
                smtp.send_message(message, to_addrs=[mail.to])
        except (OSError, smtplib.SMTPException) as error:
            logger.error("mail not sent", extra={"subject": mail.subject, "error": type(error).__name__})
            raise MailError(type(error).__name__) from None

    def _log(self, mail: Mail) -> None:
        if self.settings.environment == "local":
            # Development only: the body carries the one-time link the developer needs to click, and it goes
            # into the message itself so the text log format shows it too.
            logger.info("mail (no SMTP_HOST configured) to %s: %s\n%s", mail.to, mail.subject, mail.text)
        else:
            logger.warning("mail dropped: no SMTP_HOST configured", extra={"subject": mail.subject})
