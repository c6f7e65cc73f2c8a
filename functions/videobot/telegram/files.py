"""The Telegram side of the ChatFiles port (providers.base): a file a user sent, fetched by
the pipeline (getFile, then the download from /file/bot<token>/<file_path>). The Bot API lets
a bot download at most 20 MB; a bigger file, or one Telegram no longer has, is
VoiceNotDownloadable (permanent: the stage's Retry does not repeat it); an outage is
VendorUnavailable (retried)."""

from __future__ import annotations

from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest

from videobot.config import Settings
from videobot.errors import VoiceNotDownloadable
from videobot.observability import logger
from videobot.providers.base import ChatFile
from videobot.telegram import bot as bots
from videobot.telegram.bot import call


class TelegramFiles:
    def __init__(self, settings: Settings):
        self.settings = settings

    def download(self, file_id: str, *, max_bytes: int) -> ChatFile:
        return bots.run(lambda bot: download(bot, file_id, max_bytes, self.settings), self.settings)


async def download(bot: Bot, file_id: str, max_bytes: int, settings: Settings) -> ChatFile:
    try:
        file = await call(lambda: bot.get_file(file_id), "getFile", settings)
        if file.file_size and file.file_size > max_bytes:
            raise BadRequest("file is too big")
        data = bytes(await call(lambda: file.download_as_bytearray(), "downloadFile", settings))
    except BadRequest as exc:  # "file is too big" (over 20 MB), or a file id Telegram no longer has
        logger.info("chat file not downloadable", extra={"error": str(exc)})
        raise VoiceNotDownloadable(str(exc)) from None
    if len(data) > max_bytes:
        raise VoiceNotDownloadable(f"the file has {len(data)} bytes, over {max_bytes}")
    # Telegram's own name (a voice note's is file_N.oga); the transcriber names the upload
    return ChatFile(data, Path(str(file.file_path or "")).name or "voice.ogg")
