"""Domain errors. A Python exception's class name is its ASL error name, so the state
machine Catches and Retries these by name (see statemachine/video_pipeline.asl.json)."""


class VideoBotError(Exception):
    """Base class: every error here ends a job with a message a person can read."""


class ConfigurationError(VideoBotError):
    """The environment is missing or has an invalid setting."""


class JobNotFound(VideoBotError):
    """The job row does not exist (it may have been cancelled and cleared)."""


class JobCancelled(VideoBotError):
    """The job was cancelled while this stage ran; the stage stops without writing."""


class ContentRefused(VideoBotError):
    """A vendor's moderation refused a segment (Runway SAFETY.*). Never retried."""

    def __init__(self, message: str, segment_index: int | None = None):
        super().__init__(message)
        self.segment_index = segment_index


class VendorUnavailable(VideoBotError):
    """A vendor failed in a way worth retrying (HTTP 429/5xx, timeouts). Retried by the ASL."""


class VendorFailed(VideoBotError):
    """A vendor failed for good: bad request, malformed reply, or too many resubmits."""


class PollBudgetExceeded(VideoBotError):
    """A vendor task stayed unfinished past the poll budget."""


class DatabaseUnavailable(VideoBotError):
    """PostgreSQL could not be reached. Retried by the ASL."""


class MediaError(VideoBotError):
    """FFmpeg failed, or a media file is not what it should be."""


class ControlUnavailable(VideoBotError):
    """Step Functions did not take an answer at a gate or a cancel (throttled past the retries,
    or refused the call): nothing changed, and the user is asked to try again."""


class StartFailed(VideoBotError):
    """Step Functions refused or never answered StartExecution: no job was left behind."""


class VoiceNotDownloadable(VideoBotError):
    """A voice topic's file could not be fetched from Telegram (over the 20 MB getFile limit,
    or a file id Telegram no longer has). Never retried."""


class VoiceNotUnderstood(VideoBotError):
    """The transcription of a voice topic failed for good (a refused or corrupt file)."""


class VoiceEmpty(VideoBotError):
    """The voice topic was transcribed, but no words were made out."""
