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


class BudgetExceeded(VideoBotError):
    """A paid call (or a new job) does not fit the user's or the bot-wide 24-hour budget."""

    def __init__(self, scope: str, spent: float, budget: float, needed: float):
        super().__init__(
            f"the {scope} budget of ${budget:.2f} a day is used up (${spent:.2f} spent, ${needed:.2f} more needed)"
        )
        self.scope, self.spent, self.budget, self.needed = scope, spent, budget, needed


class DailyCapReached(VideoBotError):
    """A vendor model's daily generation cap (Runway's tier) cannot take a stage's generations."""

    def __init__(self, model: str, cap: int, used: int, wanted: int, resets_at=None):
        when = resets_at.strftime("%Y-%m-%d %H:%M UTC") if resets_at else "in 24 hours"
        super().__init__(f"{model}: {used} of {cap} generations a day used, {wanted} more needed; room again {when}")
        self.model, self.cap, self.used, self.wanted, self.resets_at = model, cap, used, wanted, resets_at
