"""The ``delivery`` section of the configuration: the e-mail and chat channels, and how hard to try.

Validated once, with the rest of the configuration (``arxivbot.config``): a bad recipient address, a
missing server or a webhook without the variable that holds its URL is a ``ConfigError`` naming the
key. Secrets are never in the file: ``password_env``, ``url_env``, ``bot_token_env`` and ``secret_env``
hold the *names* of environment variables. A value that cannot be a variable's name (a pasted URL or
password) is refused without being repeated in the error. A port that does not fit ``security`` (465
with STARTTLS, 587 with SSL) is a warning naming the likely fix: some servers do listen that way.
"""

from __future__ import annotations

import logging
import re
import string
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

log = logging.getLogger(__name__)

EMAIL_CHANNEL = "email"
RESERVED_NAMES = (EMAIL_CHANNEL, "files")  # the e-mail channel and the published files
WEBHOOK_KINDS = ("slack", "discord", "telegram", "feishu", "generic")
SUBJECT_PLACEHOLDERS = ("date", "count")
TELEGRAM_API = "https://api.telegram.org"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_SECRET_FIELDS = ("password_env", "url_env", "bot_token_env", "secret_env")
# What an error shows instead of a value that may be the secret itself (``"url_env": "https://hooks…"``).
HIDDEN = "(hidden: it may be the secret itself)"
# Ports whose usual security is known, and the fix a mismatch suggests.
_USUAL_SECURITY = {465: "ssl", 587: "starttls", 25: "starttls"}


class _Settings(BaseModel):
    # As the other sections (``config._Section``): an unknown key is an error naming the nearest known
    # key, unless the top-level ``allow_unknown_keys`` drops it with a warning.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _hide_pasted_secrets(cls, data: Any) -> Any:
        """A ``*_env`` value that cannot be a variable's name may be the secret: keep it out of errors."""
        if not isinstance(data, dict):
            return data
        hidden = {
            key: HIDDEN for key in _SECRET_FIELDS if isinstance(data.get(key), str) and not _ENV_NAME.match(data[key])
        }
        return {**data, **hidden} if hidden else data


# --- value types -------------------------------------------------------------------------------------------


def _env_name(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise PydanticCustomError(
            "env_name",
            "must be the name of an environment variable (letters, digits and _, such as SMTP_PASSWORD); "
            "put the secret itself in that variable, never in the config",
        )
    return value


def _mail_address(value: Any) -> Any:
    """``me@example.org`` or ``Name <me@example.org>``, checked by email-validator (syntax only, no DNS)."""
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("mail_address", "must be an e-mail address such as me@example.org")
    if "," in value and len(getaddresses([value])) > 1:
        raise PydanticCustomError("mail_address", "must be one e-mail address per entry, such as me@example.org")
    address = parseaddr(value)[1] or value.strip()
    from email_validator import EmailNotValidError, validate_email  # loaded only when e-mail is configured

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as err:
        raise PydanticCustomError(
            "mail_address", "not a valid e-mail address ({reason})", {"reason": str(err)}
        ) from None
    return value.strip()


def _channel_name(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not _CHANNEL_NAME.match(value):
        raise PydanticCustomError("channel_name", "must be a short name of letters, digits and _ . : -")
    if value in RESERVED_NAMES:
        raise PydanticCustomError("channel_name", "is reserved; choose another name")
    return value


def _resolve(value: Any, info: ValidationInfo) -> Any:
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise PydanticCustomError("path", "must be a file path")
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    return path if path.is_absolute() or base is None else Path(base) / path


EnvName = Annotated[str, BeforeValidator(_env_name)]
MailAddress = Annotated[str, AfterValidator(_mail_address)]
ChannelName = Annotated[str, BeforeValidator(_channel_name)]
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
Seconds = Annotated[float, Field(gt=0, strict=True)]


# --- e-mail ----------------------------------------------------------------------------------------------------


class EmailSettings(_Settings):
    """``delivery.email``: one message per digest, through an SMTP server, to every recipient."""

    smtp_host: str
    recipients: list[MailAddress] = Field(min_length=1)
    smtp_port: Port = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: EnvName | None = None
    sender: MailAddress | None = None  # default: username, when it is an address
    subject: str = "arXiv digest {date}: {count} papers"
    send_empty: StrictBool = False
    show_recipients: StrictBool = False  # False: each recipient sees only the sender and themselves
    ca_file: Path | None = None  # extra CA certificates (a relay with its own certificate authority)

    _resolve_ca_file = field_validator("ca_file", mode="before")(_resolve)

    @field_validator("smtp_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() or c in "/:@" for c in value.strip()):
            raise PydanticCustomError("smtp_host", "must be the SMTP server's host name, such as smtp.gmail.com")
        return value.strip()

    @field_validator("password_env")
    @classmethod
    def _password_with_username(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("username") and value is None:
            raise PydanticCustomError(
                "password_env", "required with username: the name of the variable that holds the password"
            )
        if value is not None and not info.data.get("username"):
            raise PydanticCustomError("password_env", "needs delivery.email.username too (the login name)")
        return value

    @field_validator("subject")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError:
            raise PydanticCustomError("subject", "has an unmatched { or }; write {{ or }} for a brace") from None
        unknown = [name for name in fields if name not in SUBJECT_PLACEHOLDERS]
        if unknown:
            raise PydanticCustomError(
                "subject",
                "unknown placeholder {placeholder}; use {date} and {count}",
                {"placeholder": f"{{{unknown[0]}}}"},
            )
        return value

    @field_validator("sender")
    @classmethod
    def _sender_or_username(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            return value
        username = info.data.get("username") or ""
        if "@" not in parseaddr(username)[1]:
            raise PydanticCustomError(
                "sender", 'required (the From address, such as "arxivbot <me@example.org>") unless username is one'
            )
        return str(_mail_address(username))

    @model_validator(mode="after")
    def _warn_about_security(self) -> EmailSettings:
        for problem in self.security_warnings():
            log.warning("delivery.email: %s", problem)
        return self

    def security_warnings(self) -> list[str]:
        """Likely mistakes that some servers still accept: a port that does not fit ``security``."""
        usual = _USUAL_SECURITY.get(self.smtp_port)
        problems = []
        if self.security == "starttls" and usual == "ssl":
            problems.append(
                f'port {self.smtp_port} usually expects security "ssl" (TLS from the first byte); '
                'set security to "ssl", or use port 587 with "starttls"'
            )
        elif self.security == "ssl" and usual == "starttls":
            problems.append(
                f'port {self.smtp_port} usually expects security "starttls"; set security to "starttls", '
                'or use port 465 with "ssl"'
            )
        if self.security == "none" and self.password_env:
            problems.append(
                'security "none" sends the password unencrypted; use "starttls" (port 587) or "ssl" (port 465)'
            )
        return problems

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender or "")[1]

    @property
    def recipient_addresses(self) -> list[str]:
        return [parseaddr(recipient)[1] for recipient in self.recipients]


# --- chat webhooks ---------------------------------------------------------------------------------------------


class WebhookSettings(_Settings):
    """One entry of ``delivery.webhooks``: a chat service (or any URL) that gets each digest."""

    kind: Literal["slack", "discord", "telegram", "feishu", "generic"]
    name: ChannelName | None = None  # default: the kind, or kind:N when there are several of a kind
    url_env: EnvName | None = None  # slack, discord, feishu, generic
    bot_token_env: EnvName | None = None  # telegram
    chat_id: str | None = None  # telegram: the chat, group or channel (@name or a number)
    api_url: str = TELEGRAM_API  # telegram: the Bot API's address
    secret_env: EnvName | None = None  # feishu: the signing secret, when the bot has signature checks
    send_empty: StrictBool = False

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("url_env")
    @classmethod
    def _url_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if value is None and kind is not None and kind != "telegram":
            raise PydanticCustomError(
                "url_env", "required for a {kind} webhook: the name of the variable that holds its URL", {"kind": kind}
            )
        return value

    @field_validator("bot_token_env", "chat_id")
    @classmethod
    def _telegram_needs(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("kind") == "telegram":
            what = (
                "the name of the variable that holds the bot token"
                if info.field_name == "bot_token_env"
                else ("the chat to post to (@channelname or a numeric id)")
            )
            raise PydanticCustomError("telegram", "required for telegram: {what}", {"what": what})
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise PydanticCustomError("api_url", "must be an http(s):// URL")
        return value.rstrip("/")


class DeliveryConfig(_Settings):
    """``delivery``: where each digest goes besides the published files, and how hard to try."""

    email: EmailSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    retry_days: NonNegativeInt = 7
    timeout_seconds: Seconds = 30.0
    max_retries: NonNegativeInt = 3

    @field_validator("webhooks")
    @classmethod
    def _distinct_names(cls, value: list[WebhookSettings]) -> list[WebhookSettings]:
        names = webhook_names(value)
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise PydanticCustomError(
                "webhook_names", "two webhooks are named '{name}': give each a distinct name", {"name": twice[0]}
            )
        return value

    def channel_names(self) -> list[str]:
        """Every configured message channel's name, e-mail first."""
        return ([EMAIL_CHANNEL] if self.email else []) + webhook_names(self.webhooks)


def webhook_names(webhooks: list[WebhookSettings]) -> list[str]:
    """Each webhook's stable name: its ``name``; else its kind, or ``kind:N`` (N counts from 0 within
    the kind) when several webhooks share a kind. The store keys deliveries on these names."""
    kinds = [hook.kind for hook in webhooks]
    names = []
    for index, hook in enumerate(webhooks):
        if hook.name:
            names.append(hook.name)
        elif kinds.count(hook.kind) == 1:
            names.append(hook.kind)
        else:
            names.append(f"{hook.kind}:{kinds[:index].count(hook.kind)}")
    return names
