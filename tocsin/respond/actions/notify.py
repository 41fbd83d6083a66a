"""Notifications: e-mail over SMTP and JSON webhooks (plain, Slack or Teams payloads)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Literal

from tocsin.respond.actions.base import (
    Params,
    Responder,
    ResponderError,
    StepContext,
    email_addresses,
)
from tocsin.respond.actions.http import redacted, request_json
from tocsin.settings import SmtpSettings


class EmailParams(Params):
    to: str | list[str]  # a list (one address per item) for addresses taken from alerts
    template: str


class Email(Responder):
    params = EmailParams

    def plan(self, params: EmailParams, ctx: StepContext) -> str:
        smtp = ctx.settings.smtp
        return f"e-mail {', '.join(email_addresses(params.to))} using template {params.template!r} via {smtp.host}:{smtp.port}"

    def execute(self, params: EmailParams, ctx: StepContext) -> dict[str, Any]:
        recipients = email_addresses(params.to)
        message = self._message(params, ctx, recipients)
        smtp = ctx.settings.smtp
        try:
            with _connect(smtp, ctx.timeout) as client:
                if smtp.username:
                    client.login(smtp.username, smtp.password.get_secret_value())
                refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise ResponderError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
        if refused:
            raise ResponderError(f"SMTP refused: {', '.join(refused)}")
        return {"message_id": message["Message-ID"], "to": recipients}

    def _message(self, params: EmailParams, ctx: StepContext, recipients: list[str]) -> EmailMessage:
        text = ctx.render_file(params.template, ".txt.j2", ctx.template_context)
        first, _, body = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ResponderError(f"template {params.template}: the first line must be 'Subject: …'")
        message = EmailMessage()
        message["Subject"] = " ".join(first.removeprefix("Subject:").split())
        message["From"] = ctx.settings.smtp.sender
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(localtime=False)
        # The same id on every attempt: a receiver that sees the mail twice can tell it is one message.
        message["Message-ID"] = f"<{ctx.idempotency_key.replace('/', '.')}@tocsin>"
        message.set_content(body.lstrip("\n"))
        return message


def _connect(smtp: SmtpSettings, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=smtp.ca_file or None)
    host, port, security = smtp.host, smtp.port, smtp.security
    if security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    client = smtplib.SMTP(host, port, timeout=timeout)
    if security == "starttls":
        client.ehlo()
        if not client.has_extn("starttls"):
            client.close()
            raise ResponderError(
                f'SMTP {host}:{port} does not offer STARTTLS (set smtp.security = "none" only for a trusted local relay)'
            )
        client.starttls(context=context)
    elif security != "none":
        raise ResponderError(f"smtp.security = {security!r}: choose starttls, tls or none")
    return client


class WebhookParams(Params):
    title: str
    text: str
    severity: str = ""
    url: str = ""  # default: webhook.url from the configuration


class Webhook(Responder):
    params = WebhookParams

    def plan(self, params: WebhookParams, ctx: StepContext) -> str:
        return f"POST {params.title!r} to {redacted(self._url(params, ctx))} ({ctx.settings.webhook.format})"

    def execute(self, params: WebhookParams, ctx: StepContext) -> dict[str, Any]:
        hook = ctx.settings.webhook
        status, _ = request_json(
            "POST",
            self._url(params, ctx),
            _payload(hook.format, params, ctx.incident_id),
            token=hook.token.get_secret_value(),
            ca_file=hook.ca_file,
            timeout=min(ctx.timeout, hook.timeout),
            headers={"Idempotency-Key": ctx.idempotency_key},
        )
        return {"status": status}

    @staticmethod
    def _url(params: WebhookParams, ctx: StepContext) -> str:
        url = params.url or ctx.settings.webhook.url
        if not url:
            raise ResponderError("no webhook URL: set webhook.url (or TOCSIN_WEBHOOK__URL)")
        return url


def _slack(text: str) -> str:
    """Text for Slack's mrkdwn: its control characters ``& < >`` escaped, so no value becomes a link,
    a mention (``<!channel>``) or markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _payload(
    kind: Literal["json", "slack", "teams"] | str, params: WebhookParams, incident: str
) -> dict[str, Any]:
    line = f"[{incident}] {params.title}"
    if kind == "slack":
        return {"text": f"*{_slack(line)}*\n{_slack(params.text)}"}
    if kind == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": line,
            "title": line,
            "text": params.text,
        }
    if kind == "json":
        return {"incident": incident, "title": params.title, "text": params.text, "severity": params.severity}
    raise ResponderError(f"webhook.format = {kind!r}: choose json, slack or teams")
