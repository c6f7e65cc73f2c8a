"""Offline speech with espeak-ng through ctypes: the library and its voice data come from the
`espeakng-loader` wheel, so nothing needs installing on the machine."""

from __future__ import annotations

import ctypes
import threading

from videobot import media

_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_lock = threading.Lock()  # espeak-ng keeps global state: one synthesis at a time
_lib = None
_sample_rate = 0
_chunks: list[bytes] = []


def _callback(wav, numsamples, events):
    if numsamples > 0:
        _chunks.append(ctypes.string_at(wav, numsamples * 2))
    return 0


_c_callback = _SYNTH_CALLBACK(_callback)


def _load():
    global _lib, _sample_rate
    if _lib is None:
        import espeakng_loader

        lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
        lib.espeak_SetSynthCallback(_c_callback)
        _lib, _sample_rate = lib, rate
    return _lib


def speak_wav(text: str, *, voice: str = "ru", words_per_minute: int = 165) -> bytes:
    """Speak text; return a mono 16-bit WAV."""
    with _lock:
        lib = _load()
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        lib.espeak_SetParameter(_ESPEAK_RATE, words_per_minute, 0)
        _chunks.clear()
        data = text.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        pcm = b"".join(_chunks)
        _chunks.clear()
    return media.pcm_to_wav(pcm, _sample_rate)
